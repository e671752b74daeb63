import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { runPipeline } from '../../src/pipelines/index.js';
import { startHarness, registryYaml, type Harness } from '../helpers/bot-harness.js';
import { startEmulator, type Emulator } from '../helpers/sglang-emulator.js';
import { postSlashCommand } from '../helpers/slack-requests.js';

describe('/triage capture end to end: real bot, real worker, real Redis, SGLang emulator', () => {
  let emulator: Emulator;
  let h: Harness;

  beforeAll(async () => {
    emulator = await startEmulator({ scenario: 'ttft-spike' });
    h = await startHarness({
      registry: registryYaml({ 'prod-a': { url: emulator.url, host: 'gpu-1' } }),
      workers: [{ host: 'gpu-1', runPipeline }],
    });
  });
  afterAll(async () => {
    await h?.stop();
    await emulator?.close();
  });

  it('acks fast, then posts one threaded summary with report.md, and writes incident.json on the host', async () => {
    const res = await postSlashCommand(h.botUrl, h.fake, { text: 'capture prod-a' });
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(3000);

    const root = await h.fake.waitFor(() => h.fake.messages.find((m) => !m.thread_ts && m.text?.includes('capture on prod-a')), 'opening message');
    const summary = await h.fake.waitFor(
      () => h.fake.threadOf(root.ts).find((m) => m.blocks?.some((b) => b.type === 'actions' && (b as { block_id?: string }).block_id === 'triage.summary')),
      'threaded summary',
      30_000,
    );
    // The TTFT-spike case study: slow, compute-side prefill, next skill is the profiler analysis.
    expect(summary.text).toMatch(/slow on prod-a/);
    expect(JSON.stringify(summary.blocks)).toContain('llm-torch-profiler-analysis');

    const file = await h.fake.waitFor(() => h.fake.files.find((f) => f.thread_ts === root.ts && f.channel), 'report.md upload');
    expect(file.filename).toBe('report.md');
    expect(file.content).toContain('## Strongest signal');

    const incidentId = (root.text ?? '').split(':')[0]!;
    // The 'done' timeline entry is written beside the summary post, not before it: wait for it, then check it all.
    const incident = await eventually(async () => {
      const r = await h.store.require(incidentId);
      return r.timeline.some((t) => t.kind === 'done') ? r : null;
    }, "the incident's done entry", 10_000).catch(() => h.store.require(incidentId));
    expect(incident).toMatchObject({ server: 'prod-a', host: 'gpu-1', status: 'open', jobState: 'done', problemClass: 'slow', threadTs: root.ts, summaryTs: summary.ts });
    expect(incident.timeline.map((t) => t.kind)).toEqual(expect.arrayContaining(['created', 'queued', 'step', 'done']));

    // The live status message ended on "done" with every step listed.
    const status = h.fake.messages.find((m) => m.ts === incident.statusTs)!;
    expect(status.thread_ts).toBe(root.ts);
    expect(JSON.stringify(status.blocks)).toContain('done');
    expect(JSON.stringify(status.blocks)).toContain('route');

    const onDisk = JSON.parse(await readFile(path.join(h.dataDir, incidentId, 'incident.json'), 'utf8')) as Record<string, unknown>;
    expect(onDisk).toMatchObject({ id: incidentId, server: 'prod-a', createdAt: incident.createdAt });
    expect((onDisk.timeline as unknown[]).length).toBeGreaterThan(0);

    // The person who asked got an ephemeral answer through the response_url.
    expect(h.fake.responses.some((r) => r.url === res.responseUrl && String(r.body.text).includes(incidentId))).toBe(true);
    expect(h.fake.violations).toEqual([]);
  });
});
