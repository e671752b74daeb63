import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseReplayJson, replayRecognizer } from '../../src/evidence/replay.js';
import { FOLDER_RECOGNIZERS, RECOGNIZERS } from '../../src/evidence/registry.js';
import { scanFolder } from '../../src/evidence/scan.js';
import { Evidence, type EvidenceItem } from '../../src/evidence/types.js';
import { runReplay, type ReplayOptions } from '../../src/replay/engine.js';
import { buildDocument, writeReplayJson, type ReplayDocument } from '../../src/replay/report.js';
import { route } from '../../src/triage/route.js';
import { PRIORITY, type RouteContext, type Rule } from '../../src/triage/rule.js';
import { RULES } from '../../src/triage/rules/index.js';
import { REPLAY_PRIORITY, replayRule } from '../../src/triage/rules/replay.js';
import { withTempDir } from '../helpers/tmp.js';
import { req, startFakeSglang, type FakeSglang } from './fake-sglang.js';

const servers: FakeSglang[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function replayDoc(fakeOpts: Parameters<typeof startFakeSglang>[0], requests: Parameters<typeof runReplay>[0], opts: Omit<ReplayOptions, 'target'> = {}): Promise<ReplayDocument> {
  const s = await startFakeSglang(fakeOpts);
  servers.push(s);
  const run = await runReplay(requests, { target: s.url, ...opts }, { signal: new AbortController().signal });
  return buildDocument(run, { source: '/dumps/crash_dump.pkl', files: ['/dumps/crash_dump.pkl'] });
}

const HELLO_768 = 'hello '.repeat(768);
const hangReqs = () => [
  req(1),
  req(1.02, { body: { text: HELLO_768 }, recordedPromptTokens: 769, unfinished: true, finishedAt: undefined, rid: 'trig' }),
  req(1.04),
];

const ctx = (dir: string): RouteContext => ({ root: dir, incidentDir: dir, server: { name: 'prod-a', url: 'http://10.0.0.5:30000' } });

describe('replay.json', () => {
  it('has the documented shape', async () => {
    const doc = await replayDoc({ hangWhen: (_b, n) => n === 769 }, hangReqs(), { timeoutMs: 400, parallel: 4 });
    expect(Object.keys(doc)[0]).toBe('artifact_type');
    expect(doc).toMatchObject({
      artifact_type: 'replay',
      schemaVersion: 1,
      options: { parallel: 4, speed: 1, ignoreEos: false, timeoutMs: 400, auth: false },
      input: { files: ['/dumps/crash_dump.pkl'] },
      reproduced: 'hang',
      trigger: { rid: 'trig', promptTokens: 769, textPreview: '"hello " * 768' },
      totals: { planned: 3, sent: 3, outcomes: { ok: 2, timeout: 1 } },
    });
    expect(doc.target).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/generate$/);
    expect(Date.parse(doc.finishedAt)).toBeGreaterThanOrEqual(Date.parse(doc.startedAt));
    const r = doc.requests[1]!;
    expect(Object.keys(r)).toEqual(
      expect.arrayContaining(['idx', 'rid', 'plannedStartMs', 'actualStartMs', 'startErrorMs', 'capDelayMs', 'outcome', 'status', 'ttftMs', 'e2eMs', 'gaps', 'promptTokens', 'completionTokens', 'recordedPromptTokens', 'recordedCompletionTokens']),
    );
    expect(doc.totals.startErrorMs.count).toBe(3);
  });

  it('is recognised by content, whatever its name, and not confused with other JSON', async () => {
    const doc = await replayDoc({}, [req(1), req(1.01)]);
    await withTempDir(async (dir) => {
      await writeReplayJson(dir, doc);
      await mkdir(path.join(dir, 'logs'));
      await writeFile(path.join(dir, 'logs', 'renamed.txt'), await readFile(path.join(dir, 'replay', 'replay.json')));
      await writeFile(path.join(dir, 'logs', 'other.json'), '{"artifact_type": "bundle", "replay": "replay"}');
      const ev = await scanFolder(dir, { recognizers: RECOGNIZERS, folderRecognizers: FOLDER_RECOGNIZERS, signal: new AbortController().signal });
      expect(ev.of('replay').map((i) => i.file).sort()).toEqual(['logs/renamed.txt', 'replay/replay.json']);
      expect(ev.unrecognised).toContain('logs/other.json');
      expect(ev.checked.join('\n')).toMatch(/replay of 2 request\(s\) .* reproduced=false/);
    });
    expect(parseReplayJson('{"artifact_type":"replay"}')).toBeNull();
    expect(replayRecognizer.sniff({ path: '/x', rel: 'x', size: 10, head: 'artifact_type: replay' })).toBe(false);
  });
});

describe('triage route on a replay', () => {
  it('a replay that hung the target routes to hang with the trigger request', async () => {
    const doc = await replayDoc({ hangWhen: (_b, n) => n === 769 }, hangReqs(), { timeoutMs: 400 });
    await withTempDir(async (dir) => {
      await writeReplayJson(dir, doc);
      const ev = await scanFolder(dir, { recognizers: RECOGNIZERS, folderRecognizers: FOLDER_RECOGNIZERS, signal: new AbortController().signal });
      const report = route(ev, ctx(dir), RULES);
      expect(report.problemClass).toBe('hang');
      expect(report.facts.reproduced).toBe('hang');
      expect(report.facts.triggerRequest).toMatchObject({ rid: 'trig', promptTokens: 769, textPreview: '"hello " * 768' });
      expect(report.nextStep.skill).toBe('collect-more');
      expect(report.nextStep.commands.join('\n')).toMatch(/py-spy dump[\s\S]*cuda-gdb -p/);
      expect(report.evidence[0]!.file).toBe('replay/replay.json');
    });
  });

  it('with evidence from several ranks the hang goes to debug-distributed-hang', async () => {
    const doc = await replayDoc({ hangWhen: (_b, n) => n === 769 }, hangReqs(), { timeoutMs: 400 });
    const data = parseReplayJson(JSON.stringify(doc))!;
    const items = [
      { kind: 'replay', file: 'replay/replay.json', data },
      { kind: 'python-stacks', file: 'stacks/rank0.pystack.txt', data: {} },
      { kind: 'python-stacks', file: 'stacks/rank1.pystack.txt', data: {} },
    ] as unknown as EvidenceItem[];
    const v = replayRule.evaluate(new Evidence(items), ctx('/inc'))!;
    expect(v.nextStep.skill).toBe('debug-distributed-hang');
    expect(v.priority).toBeLessThan(PRIORITY.schedulerStall);
  });

  it('located GPU evidence from a higher-priority rule wins over the replay', async () => {
    const doc = await replayDoc({ hangWhen: (_b, n) => n === 769 }, hangReqs(), { timeoutMs: 400 });
    const data = parseReplayJson(JSON.stringify(doc))!;
    const gpuRule: Rule = {
      id: 'fake-gpu',
      evaluate: () => ({
        rule: 'fake-gpu',
        priority: PRIORITY.collectiveHang,
        problemClass: 'hang',
        strongestSignal: 'rank 1 stuck in ncclDevKernel_AllGather_RING_LL',
        bestGuess: 'divergence',
        ruledOut: [],
        nextStep: { skill: 'debug-distributed-hang', why: 'x', commands: [] },
        productionRisk: 'high',
        facts: { collective: 'AllGather' },
        evidence: [],
      }),
    };
    const ev = new Evidence([{ kind: 'replay', file: 'replay/replay.json', data }] as EvidenceItem[]);
    expect(route(ev, ctx('/inc'), [replayRule, gpuRule]).facts.rule).toBe('fake-gpu');
  });

  it('a crash, a slow reproduction and a non-reproduction each get their verdict', async () => {
    const crash = await replayDoc({ dieAfter: 2, delayMs: (b) => (b.rid === 'slow' ? 400 : 5) }, [
      req(1),
      req(1.01),
      req(1.02, { rid: 'slow', body: { text: 'x', rid: 'slow' } }),
      req(1.2),
    ]);
    const slow = await replayDoc({ delayMs: 120 }, [req(1, { finishedAt: 1.1 }), req(1.01, { finishedAt: 1.11 })]);
    const fine = await replayDoc({}, [req(1), req(1.01)]);
    const verdictOf = (d: ReplayDocument) => replayRule.evaluate(new Evidence([{ kind: 'replay', file: 'replay/replay.json', data: parseReplayJson(JSON.stringify(d))! }] as EvidenceItem[]), ctx('/inc'))!;

    expect(crash.reproduced).toBe('crash');
    expect(verdictOf(crash)).toMatchObject({ problemClass: 'crash', priority: REPLAY_PRIORITY.crash, facts: { reproduced: 'crash' } });

    // 120 ms is not "slow" in absolute terms: the recorded-vs-replay comparison is reported but not a reproduction.
    expect(slow.totals.vsRecorded).toMatchObject({ compared: 2 });
    expect(slow.reproduced).toBe(false);

    const v = verdictOf(fine);
    expect(v).toMatchObject({ problemClass: 'unknown', priority: PRIORITY.weak, facts: { reproduced: false } });
  });
});
