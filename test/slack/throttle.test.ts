import { webApi } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/queue/json-logger.js';
import { createBotMetrics } from '../../src/slack/metrics.js';
import { SlackPoster } from '../../src/slack/poster.js';
import { boltLogger } from '../../src/slack/bolt-logger.js';
import { UpdateThrottle } from '../../src/slack/throttle.js';
import { noteMessage } from '../../templates/blocks.js';
import { FakeSlack } from '../helpers/fake-slack.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('status-message throttle', () => {
  it('sends at most once per interval per message, always the newest state', async () => {
    const sent: Array<{ key: string; value: number; at: number }> = [];
    const throttle = new UpdateThrottle<number>({ intervalMs: 200, send: async (key, value) => void sent.push({ key, value, at: Date.now() }) });
    const started = Date.now();
    for (let i = 1; i <= 20; i++) {
      throttle.push('a', i);
      throttle.push('b', i * 10);
      await sleep(10);
    }
    await Promise.all([throttle.flush('a'), throttle.flush('b')]);
    const a = sent.filter((s) => s.key === 'a');
    expect(a.length).toBeGreaterThanOrEqual(2);
    // At most one send per 200 ms window of however long the loop really took (a loaded CI box is slow).
    expect(a.length).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 200) + 1);
    for (let i = 1; i < a.length; i++) expect(a[i]!.at - a[i - 1]!.at).toBeGreaterThanOrEqual(190);
    expect(a.at(-1)?.value).toBe(20);
    expect(sent.filter((s) => s.key === 'b').at(-1)?.value).toBe(200);
  });

  it('a slow send holds the key; pushes meanwhile collapse into one follow-up', async () => {
    const sent: number[] = [];
    const throttle = new UpdateThrottle<number>({
      intervalMs: 50,
      send: async (_k, v) => {
        sent.push(v);
        if (v === 1) await sleep(300);
      },
    });
    throttle.push('k', 1);
    await sleep(20);
    for (let i = 2; i <= 9; i++) throttle.push('k', i);
    await throttle.flush('k');
    expect(sent).toEqual([1, 9]);
  });

  it('flush on an idle key resolves at once; drain sends what is pending', async () => {
    const sent: number[] = [];
    const throttle = new UpdateThrottle<number>({ intervalMs: 10_000, send: async (_k, v) => void sent.push(v) });
    await throttle.flush('never');
    throttle.push('k', 1);
    await sleep(10);
    throttle.push('k', 2);
    const started = Date.now();
    await throttle.drain();
    expect(sent).toEqual([1, 2]);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('chat.update against Slack rate limits (real WebClient, fake Slack)', () => {
  let fake: FakeSlack;
  afterEach(async () => {
    await fake?.close();
  });

  it('honours 429 Retry-After and still lands the newest content', async () => {
    fake = await new FakeSlack().start();
    const client = new webApi.WebClient('xoxb-t', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 3, minTimeout: 10, maxTimeout: 20 }, logger: boltLogger(silentLogger) });
    const metrics = createBotMetrics({ defaults: false });
    const poster = new SlackPoster(client, metrics, silentLogger);
    const posted = await poster.post('C1', noteMessage('status v0'));
    if (!posted.ok) throw new Error(posted.error);
    fake.failNext('chat.update', { status: 429, retryAfter: 1 });
    const throttle = new UpdateThrottle<string>({ intervalMs: 100, send: async (_k, text) => void (await poster.update('C1', posted.value, noteMessage(text))) });
    throttle.push('m', 'status v1');
    await sleep(30);
    for (let i = 2; i <= 6; i++) throttle.push('m', `status v${i}`);
    await throttle.flush('m');

    const updates = fake.callsOf('chat.update');
    expect(updates[0]!.status).toBe(429);
    // The retry of v1 waited out Retry-After; v2..v5 were never sent; v6 is what stays.
    expect(updates[1]!.at - updates[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(updates.map((u) => u.args.text)).toEqual(['status v1', 'status v1', 'status v6']);
    expect(fake.messages[0]!.text).toBe('status v6');
    expect(await metrics.registry.getSingleMetricAsString('triage_slack_api_errors_total')).toMatch(/method="chat.update",error="ratelimited"[^}]*} 1/);
  });
});
