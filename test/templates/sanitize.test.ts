import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/contracts/report.js';
import type { BundleSummary } from '../../src/evidence/bundle/summary.js';
import { failureMessage, summaryMessage } from '../../templates/blocks.js';
import { incidentStatusMessage } from '../../templates/blocks-incident.js';
import { renderBundleSummary } from '../../templates/bundle-summary.js';
import { handoffMessage, handoffText, homeView } from '../../templates/handoff-blocks.js';
import { renderReportMarkdown } from '../../templates/report-markdown.js';
import { renderReportText } from '../../templates/report-text.js';
import { rootMessage } from '../../templates/root-blocks.js';
import { echo, escapeControls, markdownFence, oneLine, slackCode, slackLine, terminalLine } from '../../templates/sanitize.js';
import { statusMessage } from '../../templates/status-blocks.js';
import { incidentRecord, SLOW_REPORT } from './fixtures.js';

/**
 * Hostile values as a server, a pickle or a log could carry them. Built here from their parts so
 * the file itself holds no raw escape characters.
 */
const ESC = String.fromCharCode(0x1b);
const HOSTILE = [
  '<!channel> <!here> <!everyone>',
  `${ESC}[31mred${ESC}[0m`, // SGR colour
  `${ESC}[2J${ESC}[H`, // clear screen, cursor home
  `${ESC}]8;;https://evil.test${ESC}\\link${ESC}]8;;${ESC}\\`, // OSC 8 hyperlink
  `${ESC}]0;title${String.fromCharCode(7)}`, // OSC window title, BEL
  `${String.fromCharCode(0x9b)}31m`, // one-byte C1 CSI
  'carriage\rreturn overwrite',
  'line one\nnext skill:       rm -rf /',
  `bi\u202edi\u2066rtl\u2069`, // Trojan Source overrides
  'nul\u0000byte and \u0008backspace and \u007fdel',
  '<@UEVIL> <#CEVIL> <!subteam^SEVIL>',
  '<https://evil.test|click to fix> & more',
  '```closed the fence``` and `tick`',
  '# fake heading',
  '| fake | column |',
];
const PAYLOAD = HOSTILE.join(' ~ ');

/** Every string field of a report set to the payload (facts and evidence included). */
function hostileReport(): Report {
  return {
    ...SLOW_REPORT,
    checked: [PAYLOAD, 'ok'],
    strongestSignal: PAYLOAD,
    bestGuess: PAYLOAD,
    ruledOut: [PAYLOAD],
    nextStep: { ...SLOW_REPORT.nextStep, why: PAYLOAD, commands: [`triage replay ${PAYLOAD}`] },
    productionRisk: PAYLOAD,
    facts: { ...SLOW_REPORT.facts, faultingKernel: PAYLOAD, [PAYLOAD]: 'key from evidence' },
    evidence: [{ file: PAYLOAD, fact: PAYLOAD }],
  };
}

const hostileIncident = () =>
  incidentRecord({
    server: 'prod-a',
    report: hostileReport(),
    failure: PAYLOAD,
    resolveReason: PAYLOAD,
    incidentDir: `/data/${PAYLOAD}`,
    steps: [{ step: PAYLOAD, state: 'started', detail: PAYLOAD, at: '2026-11-28T01:16:05.000Z', counters: { [PAYLOAD]: 3 }, deadline: '2026-11-28T01:20:00.000Z' }],
    timeline: [{ at: '2026-11-28T01:16:00.000Z', kind: 'step', text: PAYLOAD }],
  });

const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** What no Slack text may contain when the payload went in: a live mention, link or control. */
function assertSlackSafe(text: string): void {
  expect(text).not.toMatch(RAW_CONTROL);
  for (const live of ['<!channel>', '<!here>', '<!everyone>', '<@UEVIL>', '<#CEVIL>', '<!subteam^SEVIL>', '<https://evil.test']) expect(text).not.toContain(live);
  expect(text).toContain('&lt;!channel&gt;');
  expect(text).toContain('\\x1b[31m');
}

/** All mrkdwn text of a message's blocks and its fallback text, joined. */
function slackTexts(message: { text?: string; blocks: unknown[] }): string {
  const out: string[] = [message.text ?? ''];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (typeof o.text === 'string') out.push(o.text);
      for (const v of Object.values(o)) if (typeof v === 'object') walk(v);
    }
  };
  walk(message.blocks);
  return out.join('\n');
}

describe('the sanitizer', () => {
  it('shows every control character as text and keeps the rest', () => {
    expect(escapeControls(`${ESC}[31mred${ESC}[0m\ttab\nline`)).toBe('\\x1b[31mred\\x1b[0m\ttab\nline');
    expect(oneLine('a\nb\r\nc')).toBe('a\\nb\\r\\nc');
    expect(terminalLine(`${String.fromCharCode(0x9b)}2J \u202e`)).toBe('\\x9b2J \\u{202e}');
    expect(slackLine('<!channel> & <@U1>')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt;');
    expect(slackCode('a`b')).toBe('a\u02cbb');
  });

  it('caps an echoed argument: 1 MiB comes back as 80 characters and a count', () => {
    const huge = 'x'.repeat(1024 * 1024);
    const shown = echo(huge);
    expect(shown.length).toBeLessThan(140);
    expect(shown).toContain(`${1024 * 1024 - 80} more characters`);
    expect(echo('`<!channel>`')).toBe('\u02cb&lt;!channel&gt;\u02cb');
  });

  it('picks a fence longer than any backtick run', () => {
    expect(markdownFence(['plain'])).toBe('```');
    expect(markdownFence(['a ```` b'])).toBe('`````');
  });

  it('stays linear on long runs of every character class (no backtracking)', () => {
    const long = (ch: string) => ch.repeat(2 * 1024 * 1024);
    const started = performance.now();
    for (const ch of [ESC, '\n', '<', '&', '`', 'a', '\u202e', '|']) {
      slackLine(long(ch));
      terminalLine(long(ch));
      markdownFence([long(ch)]);
    }
    // A regex that backtracks takes minutes here; a linear pass takes well under a second each.
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});

describe('every template neutralises hostile evidence', () => {
  const incident = hostileIncident();
  const summaryIncident = { id: incident.id, server: incident.server, host: incident.host, pipeline: 'capture', incidentDir: incident.incidentDir };

  it.each([
    ['summary', () => summaryMessage(hostileReport(), summaryIncident)],
    ['superseded summary', () => summaryMessage(hostileReport(), summaryIncident, { superseded: true })],
    ['failure notice', () => failureMessage(summaryIncident, PAYLOAD, 2)],
    ['status message', () => statusMessage({ incidentId: incident.id, server: 'prod-a', host: 'gpu-1', pipeline: 'replay', jobState: 'running', steps: incident.steps, failure: PAYLOAD, at: '2026-11-28T01:17:00.000Z' })],
    ['retrying status', () => statusMessage({ incidentId: incident.id, server: 'prod-a', host: 'gpu-1', pipeline: 'replay', jobState: 'retrying', steps: incident.steps, failure: PAYLOAD, at: '2026-11-28T01:17:00.000Z' })],
    ['root message', () => rootMessage({ ...incident, jobState: 'failed' })],
    ['resolved root message', () => rootMessage({ ...incident, status: 'resolved', resolvedBy: 'U0ROOT' })],
    ['/triage status', () => incidentStatusMessage(incident, new Date('2026-11-28T02:00:00Z'))],
    ['handoff', () => handoffMessage({ open: [incident], resolved: [{ ...incident, status: 'resolved' }], since: new Date(0), now: new Date('2026-11-28T02:00:00Z'), scope: 'in <#C0OPS>' })],
    ['App Home', () => homeView({ open: [{ ...incident, jobState: 'failed' }], resolved: [], since: new Date(0), now: new Date('2026-11-28T02:00:00Z'), scope: 'in your channels' })],
  ])('Slack: %s', (_name, render) => {
    assertSlackSafe(slackTexts(render()));
  });

  it('report.md: one line per value, controls visible, the fence holds, no raw HTML, no fake column', () => {
    const md = renderReportMarkdown(hostileReport(), { incidentId: incident.id, server: 'prod-a', incidentDir: `/data/${PAYLOAD}` });
    expect(md).not.toMatch(RAW_CONTROL);
    expect(md).not.toMatch(/^# fake heading/m);
    expect(md).not.toMatch(/^next skill:/m);
    // Commands stay as typed inside their fence (a code block renders nothing); outside it, nothing is live.
    const outside = md.replace(/^(`{3,})sh\n[\s\S]*?^\1$/m, '');
    // Outside code, < and > are backslash-escaped: CommonMark shows them as text, never as HTML or autolinks.
    expect(outside).not.toMatch(/(?<!\\)<(!channel|https:\/\/evil)/);
    const fence = /^(`{3,})sh$/m.exec(md)?.[1] ?? '';
    expect(fence.length).toBeGreaterThan(3);
    const tableRows = md.split('\n').filter((l) => l.startsWith('| '));
    for (const row of tableRows) expect(row.split(/(?<!\\)\|/).length).toBe(4);
    expect(md).toMatchSnapshot();
  });

  it('terminal report text: every value on its own line, no escape reaches the terminal', () => {
    const text = renderReportText(hostileReport(), `/data/${PAYLOAD}/report.json`);
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text.split('\n').filter((l) => l.startsWith('next skill:'))).toHaveLength(1);
    expect(text).toContain('\\x1b[2J');
    expect(text).toMatchSnapshot();
  });

  it('SUMMARY.txt: server-sent values cannot paint or forge lines', () => {
    const text = renderBundleSummary(hostileBundle());
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text.split('\n').filter((l) => l.startsWith('Model:'))).toHaveLength(1);
    expect(text).toMatchSnapshot();
  });

  it('the handoff file', () => {
    const text = handoffText({ open: [incident], resolved: [], since: new Date(0), now: new Date('2026-11-28T02:00:00Z'), scope: 'in <#C0OPS>' });
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(1);
  });
});

function hostileBundle(): BundleSummary {
  return {
    artifact_type: 'incident_bundle',
    bundle_dir: `/data/${PAYLOAD}`,
    role: 'live',
    base_url: `http://10.0.0.5:30000/${PAYLOAD}`,
    server: PAYLOAD,
    collected_at: PAYLOAD,
    endpoints: { 'health.txt': { path: '/health', state: 'http-error', status: 503, error: `Model: fake\n${PAYLOAD}`, elapsed_ms: 20_010 }, 'metrics.txt': { path: '/metrics', state: 'ok', status: 200, error: null, elapsed_ms: 5 } },
    health: { health_ok: false, health_generate_ok: true, health_state: 'http-error', health_generate_state: 'ok', health_status: 503, health_generate_status: 200, health_elapsed_ms: 20_010, health_generate_elapsed_ms: 1_002, health_verdict: 'stalled', health_generate_verdict: 'ok' },
    model: { model_path: PAYLOAD, served_model_name: PAYLOAD, weight_version: PAYLOAD, model_type: PAYLOAD, version: PAYLOAD },
    topology: { tp_size: 8, dp_size: 1, pp_size: 1, ep_size: 1, disaggregation_mode: PAYLOAD, attention_backend: PAYLOAD, enable_metrics: true, speculative_algorithm: null },
    capacity: { max_total_num_tokens: 1000, max_req_input_len: 100, effective_max_running_requests_per_dp: 10 },
    point_in_time_load: { envelope: PAYLOAD, running_reqs: 1, waiting_reqs: 0, used_tokens: null, total_tokens: null, token_usage: 0.4, throughput: 10, cache_hit_rate: 0.5, retracted_reqs: 0, spec_accept_length: null, not_measured: [] },
    metrics: {
      available: true, gauges_per_tp_rank: false, request_count: 1, prompt_tokens_total: 1, generation_tokens_total: 1, cached_tokens_total: 0, lifetime_cache_hit_rate: 0, aborted_requests: 0, avg_ttft_seconds: 1, avg_e2e_seconds: 2, avg_queue_time_seconds: 0, stage_avg_seconds_max_tp_rank: { [PAYLOAD]: 1.5 },
      counters: { requests: 1, promptTokens: 1, generationTokens: 1, cachedTokens: 0, abortedRequests: 0, ttft: { sum: 1, count: 1 }, e2e: { sum: 2, count: 1 }, queue: { sum: 0, count: 1 }, stages: {} },
    },
    window: null,
    window_note: PAYLOAD,
    latency: { source: 'lifetime', seconds: null, description: PAYLOAD, requests: 1, avg_ttft_seconds: 1, avg_e2e_seconds: 2, avg_queue_time_seconds: 0, stage_avg_seconds_max_tp_rank: {}, cache_hit_rate: 0, requests_per_second: null, generation_tokens_per_second: null },
    signals: [{ level: 'warn', text: PAYLOAD } as unknown as BundleSummary['signals'][number]],
  };
}
