import { afterEach, describe, expect, it } from 'vitest';
import { TriageError } from '../../src/errors.js';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';
import { flakyRunner } from '../helpers/runners.js';
import { postSlashCommand } from '../helpers/slack-requests.js';

const REGISTRY = registryYaml({ 'prod-a': { url: 'http://127.0.0.1:9', host: 'gpu-1' } });

describe('job faults as the people in the thread see them', () => {
  let h: Harness;
  afterEach(async () => {
    expect(h.fake.violations).toEqual([]);
    await h?.stop();
  });

  async function capture() {
    await postSlashCommand(h.botUrl, h.fake, { text: 'capture prod-a' });
    const root = await h.fake.waitFor(() => h.fake.messages.find((m) => !m.thread_ts), 'opening message');
    return { root, id: root.text!.split(':')[0]! };
  }

  it('a transient fault is retried with backoff and the summary arrives once', async () => {
    h = await startHarness({ registry: REGISTRY, workers: [{ host: 'gpu-1', runPipeline: flakyRunner([new TriageError('E_TRANSIENT', 'connection reset by peer')]) }] });
    const { root, id } = await capture();
    await h.fake.waitFor(() => h.fake.threadOf(root.ts).find((m) => m.text?.includes('slow on prod-a')), 'summary');
    const record = await h.store.require(id);
    expect(record).toMatchObject({ jobState: 'done', attempt: 2, status: 'open' });
    expect(record.timeline.some((t) => t.kind === 'retry' && t.text.includes('connection reset by peer'))).toBe(true);
    expect(await h.deps.metrics.registry.getSingleMetricAsString('triage_jobs_total')).toMatch(/state="retrying"[^}]*\} 1/);
    expect(h.fake.threadOf(root.ts).filter((m) => m.text?.includes('slow on prod-a'))).toHaveLength(1);
  });

  it('bad input fails at once; the thread says why and the incident is failed', async () => {
    h = await startHarness({ registry: REGISTRY, workers: [{ host: 'gpu-1', runPipeline: flakyRunner([new TriageError('E_BAD_INPUT', 'crash dump is not a pickle')]) }] });
    const { root, id } = await capture();
    const notice = await h.fake.waitFor(() => h.fake.threadOf(root.ts).find((m) => m.text?.includes('capture failed on prod-a')), 'failure notice');
    expect(JSON.stringify(notice.blocks)).toContain('crash dump is not a pickle [E_BAD_INPUT]');
    expect(JSON.stringify(notice.blocks)).toContain('after 1 attempt.');
    const record = await h.store.require(id);
    expect(record).toMatchObject({ status: 'failed', jobState: 'failed' });
    const status = h.fake.messages.find((m) => m.ts === record.statusTs)!;
    expect(JSON.stringify(status.blocks)).toContain(':x: failed');
    // A failed incident still needs a person: handoff lists it.
    expect((await h.store.listActive()).map((i) => i.id)).toContain(id);
  });
});
