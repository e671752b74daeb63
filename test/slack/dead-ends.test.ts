import { afterEach, describe, expect, it } from 'vitest';
import { heartbeatKey } from '../../src/queue/heartbeat.js';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';
import { reportRunner } from '../helpers/runners.js';
import { postSlashCommand } from '../helpers/slack-requests.js';

const REGISTRY = registryYaml({ 'prod-a': { url: 'http://127.0.0.1:9', host: 'gpu-1' }, 'prod-b': { url: 'http://127.0.0.1:9', host: 'gpu-2' } });

/** Issue 11.2: never "summary follows" when no summary can follow. */
describe('no dead ends (real Bolt app, fake Slack, real Redis)', () => {
  let h: Harness;
  afterEach(async () => {
    expect(h.fake.violations).toEqual([]);
    await h?.stop();
  });

  const answerTo = async (text: string, more: { channel_id?: string } = {}) => {
    const res = await postSlashCommand(h.botUrl, h.fake, { text, ...more });
    expect(res.status).toBe(200);
    return h.fake.waitFor(() => h.fake.responses.find((r) => r.url === res.responseUrl), `answer to /triage ${text}`);
  };

  it('the bot is not in the channel: an ephemeral says to invite it, nothing starts; after the invite it works', async () => {
    h = await startHarness({ registry: REGISTRY, workers: [{ host: 'gpu-1', runPipeline: reportRunner() }], config: { workerMaxAgeMs: 30_000 } });
    h.fake.notMemberOf.add('C0PRIVATE');
    const refused = await answerTo('capture prod-a', { channel_id: 'C0PRIVATE' });
    expect(refused.body.response_type).toBe('ephemeral');
    expect(String(refused.body.text)).toContain('I am not a member of this channel');
    expect(String(refused.body.text)).toContain('/invite @triage');
    expect(await h.store.newestInChannel('C0PRIVATE')).toBeNull();
    expect(h.fake.callsOf('chat.postMessage').filter((c) => c.args.channel === 'C0PRIVATE')).toEqual([]);
    expect((await h.deps.audit.recent(1))[0]).toMatchObject({ outcome: 'error', detail: 'preflight: not-in-channel' });

    h.fake.notMemberOf.delete('C0PRIVATE');
    const started = await answerTo('capture prod-a', { channel_id: 'C0PRIVATE' });
    expect(String(started.body.text)).toMatch(/^Started `inc-/);
    // A "yes" is cached: the second look-up of the channel costs no Slack call.
    const lookups = h.fake.callsOf('conversations.info').length;
    await answerTo('status', { channel_id: 'C0PRIVATE' });
    await answerTo('route', { channel_id: 'C0PRIVATE' });
    expect(h.fake.callsOf('conversations.info').length).toBe(lookups);
  });

  it('no worker heartbeat for the host: an ephemeral says to start the worker there; once it runs, capture starts', async () => {
    h = await startHarness({ registry: REGISTRY, config: { workerMaxAgeMs: 30_000 } });
    const refused = await answerTo('capture prod-b');
    expect(String(refused.body.text)).toContain('No worker is serving host `gpu-2`: no worker of it has ever sent a heartbeat');
    expect(String(refused.body.text)).toContain('TRIAGE_HOST=gpu-2 npm run worker');
    expect(await h.store.newestInChannel('C0OPS')).toBeNull();

    // A heartbeat that is too old counts as none.
    const redis = h.deps.redis;
    await redis.hset(heartbeatKey(h.prefix), 'gpu-2', String(Date.now() - 5 * 60_000));
    await new Promise((r) => setTimeout(r, 2100)); // the bot reads heartbeats at most every 2 s
    const stale = await answerTo('capture prod-b');
    expect(String(stale.body.text)).toContain("its workers' last heartbeat was 5 min ago");

    h.startWorker({ host: 'gpu-2', runPipeline: reportRunner() });
    await new Promise((r) => setTimeout(r, 2100));
    const started = await answerTo('capture prod-b');
    expect(String(started.body.text)).toMatch(/^Started `inc-/);
    const root = await h.fake.waitFor(() => h.fake.messages.find((m) => !m.thread_ts && m.text?.includes('capture on prod-b')), 'opening message');
    await h.fake.waitFor(() => h.fake.threadOf(root.ts).find((m) => m.text?.includes('slow on prod-b')), 'summary');
  });

  it('a queued job no worker picks up within the window is reported in its thread, once', async () => {
    h = await startHarness({ registry: REGISTRY, config: { workerMaxAgeMs: 30_000, pickupWindowMs: 700 } });
    // A worker was alive a moment ago (fresh heartbeat) but takes nothing: hung, or just died.
    await h.deps.redis.hset(heartbeatKey(h.prefix), 'gpu-1', String(Date.now()));
    const started = await answerTo('capture prod-a');
    expect(String(started.body.text)).toMatch(/^Started `inc-/);
    const root = await h.fake.waitFor(() => h.fake.messages.find((m) => !m.thread_ts && m.text?.includes('capture on prod-a')), 'opening message');
    const note = await h.fake.waitFor(() => h.fake.threadOf(root.ts).find((m) => m.text?.includes('No worker on `gpu-1` has picked up')), 'the pickup notice');
    expect(note.text).toContain('within 1 s; it is still queued');
    await h.bot.relay.reconcile();
    expect(h.fake.threadOf(root.ts).filter((m) => m.text?.includes('has picked up'))).toHaveLength(1);
    const incident = (await h.store.newestInChannel('C0OPS'))!;
    expect(incident.jobState).toBe('queued');
    expect(incident.timeline.some((t) => t.text.includes('not picked up by a worker of gpu-1'))).toBe(true);
  });
});
