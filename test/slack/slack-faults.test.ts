import { afterEach, describe, expect, it } from 'vitest';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';
import { reportRunner } from '../helpers/runners.js';
import { postSlashCommand } from '../helpers/slack-requests.js';
import { eventually } from '../helpers/eventually.js';

const REGISTRY = registryYaml({ 'prod-a': { url: 'http://127.0.0.1:9', host: 'gpu-1' } });

describe('Slack answering 429 and 500', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.stop();
  });

  const summaries = () => h.fake.messages.filter((m) => m.thread_ts && m.blocks?.some((b) => (b as { block_id?: string }).block_id === 'triage.summary'));

  async function captureUntilRunning() {
    await postSlashCommand(h.botUrl, h.fake, { text: 'capture prod-a' });
    // The opening and status messages are out; the worker is still on its steps.
    await h.fake.waitFor(() => h.fake.callsOf('chat.postMessage').length === 2, 'opening + status messages');
    return (await h.store.newestInChannel('C0OPS'))!;
  }

  it('backs off and retries: the summary still arrives once', async () => {
    h = await startHarness({ registry: REGISTRY, workers: [{ host: 'gpu-1', runPipeline: reportRunner({ stepMs: 300 }) }] });
    const incident = await captureUntilRunning();
    h.fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    h.fake.failNext('chat.postMessage', { status: 500 }, 2);
    h.fake.failNext('files.completeUploadExternal', { status: 500 });

    const summary = await h.fake.waitFor(() => summaries()[0], 'summary', 20_000);
    expect(summary.thread_ts).toBe(incident.threadTs);
    const statuses = h.fake.callsOf('chat.postMessage').map((c) => c.status);
    expect(statuses).toEqual([200, 200, 429, 500, 500, 200]);
    await h.fake.waitFor(() => h.fake.files.find((f) => f.channel), 'report.md after a 500');
    expect(summaries()).toHaveLength(1);
    const metrics = await h.deps.metrics.registry.metrics();
    expect(metrics).toMatch(/triage_slack_api_errors_total\{method="chat.postMessage",error="ratelimited"[^}]*\} 1/);
  });

  it('when Slack stays down past the retries, the failure is recorded and a later pass posts the summary', async () => {
    h = await startHarness({ registry: REGISTRY, config: { reconcileMs: 400 }, workers: [{ host: 'gpu-1', runPipeline: reportRunner({ stepMs: 300 }) }] });
    const incident = await captureUntilRunning();
    // 1 try + 3 retries all fail.
    h.fake.failNext('chat.postMessage', { status: 500 }, 4);

    const recorded = await eventually(async () => (await h.store.require(incident.id)).timeline.find((t) => t.kind === 'slack'), 'the Slack failure on the timeline');
    expect(recorded.text).toBe('summary not posted yet: http_500');
    expect(await h.deps.metrics.registry.getSingleMetricAsString('triage_slack_api_errors_total')).toMatch(/method="chat.postMessage",error="http_500"[^}]*\} 1/);

    const summary = await h.fake.waitFor(() => summaries()[0], 'summary after Slack recovered', 10_000);
    expect(summary.thread_ts).toBe(incident.threadTs);
    await new Promise((r) => setTimeout(r, 900));
    expect(summaries()).toHaveLength(1);
    expect((await h.store.require(incident.id)).summaryTs).toBe(summary.ts);
  });
});
