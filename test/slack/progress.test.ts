import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineRunner } from '../../src/queue/jobs.js';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';
import { abortableSleep, reportRunner } from '../helpers/runners.js';
import { postSlashCommand } from '../helpers/slack-requests.js';
import { eventually } from '../helpers/eventually.js';

const UPDATE_INTERVAL_MS = 300;
const LIVE_REFRESH_MS = 400;

/**
 * A replay as the lead's pipeline reports one: a long step sending its counters every 100 ms
 * with a deadline, then a step that says nothing for 2 s (a bundle of a hung target).
 */
const longReplay: PipelineRunner = async (req, deps, signal, onProgress) => {
  const at = () => deps.now().toISOString();
  const deadline = new Date(deps.now().getTime() + 5 * 60_000).toISOString();
  onProgress({ step: 'replay on clean target', state: 'started', at: at(), deadline, counters: { sent: 0, done: 0, failed: 0 } });
  for (let i = 1; i <= 25; i++) {
    await abortableSleep(100, signal);
    // As the runner's tick sends them: no deadline (the start carried it), a detail that moves on.
    onProgress({ step: 'replay on clean target', state: 'started', at: at(), detail: `${i * 4} of 100 sent`, counters: { sent: i * 4, done: i * 3, failed: Math.floor(i / 5) } });
  }
  onProgress({ step: 'replay on clean target', state: 'done', detail: '100 sent, 75 done, 5 failed', at: at() });
  onProgress({ step: 'replay-time bundle', state: 'started', at: at(), deadline });
  await abortableSleep(2000, signal);
  onProgress({ step: 'replay-time bundle', state: 'done', at: at() });
  return reportRunner()(req, deps, signal, () => undefined);
};

describe('live progress of a long step', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      registry: registryYaml({ 'prod-a': { url: 'http://127.0.0.1:9', host: 'gpu-1' } }),
      config: { updateIntervalMs: UPDATE_INTERVAL_MS, liveRefreshMs: LIVE_REFRESH_MS },
      workers: [{ host: 'gpu-1', runPipeline: longReplay }],
    });
  });
  afterAll(async () => {
    expect(h.fake.violations).toEqual([]);
    await h?.stop();
  });

  it('redraws the status message with sent/done/failed, the step and its deadline; keeps ≥ the interval apart; stays live while the step is quiet', async () => {
    await postSlashCommand(h.botUrl, h.fake, { text: 'capture prod-a' });
    const incident = await eventually(async () => {
      const i = await h.store.newestInChannel('C0OPS');
      return i?.statusTs ? i : undefined;
    }, 'the status message');
    await eventually(async () => (await h.store.require(incident.id)).jobState === 'done', 'the job to finish', 30_000);
    await h.fake.waitFor(() => h.fake.threadOf(incident.threadTs!).find((m) => m.blocks?.some((b) => (b as { block_id?: string }).block_id === 'triage.summary')), 'summary');

    const updates = h.fake.callsOf('chat.update').filter((c) => c.args.ts === incident.statusTs);
    const texts = updates.map((u) => JSON.stringify(u.args.blocks));
    const live = texts.filter((t) => t.includes('running') && t.includes('sent '));
    expect(live.length).toBeGreaterThanOrEqual(4);
    const sent = live.map((t) => Number(/sent (\d+)/.exec(t)?.[1]));
    expect(sent).toEqual([...sent].sort((a, b) => a - b));
    expect(sent.at(-1)).toBeGreaterThan(sent[0]!);
    expect(live.every((t) => /done \d+ · failed \d+ · deadline \d\d:\d\d:\d\dZ \(in \d+ min/.test(t))).toBe(true);
    expect(live[0]).toContain('*replay on clean target* running');

    // Coalesced: 25 counter reports in 2.5 s became far fewer redraws, never closer than the interval.
    expect(updates.length).toBeLessThan(25);
    const gaps = updates.slice(1).map((u, i) => u.at - updates[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(UPDATE_INTERVAL_MS - 20);

    // The quiet 2 s step was redrawn on the refresh tick (its elapsed time moving), not left silent.
    const quiet = updates.filter((u) => JSON.stringify(u.args.blocks).includes('*replay-time bundle* running'));
    expect(quiet.length).toBeGreaterThanOrEqual(3);
    const quietGaps = quiet.slice(1).map((u, i) => u.at - quiet[i]!.at);
    expect(Math.max(...quietGaps)).toBeLessThan(LIVE_REFRESH_MS * 3);
    expect(texts.at(-1)).toContain(':white_check_mark: done');

    // Counters reach the status message, not the timeline: two entries per step.
    const steps = (await h.store.require(incident.id)).timeline.filter((t) => t.kind === 'step');
    expect(steps.map((s) => `${s.step}:${s.state}`)).toEqual(['replay on clean target:started', 'replay on clean target:done', 'replay-time bundle:started', 'replay-time bundle:done']);
  });
});
