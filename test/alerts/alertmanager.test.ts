import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerMatches } from '../../src/slack/alerts/receiver.js';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';

const TOKEN = 'alert-token-0123456789abcdef';
const ALERTS = `alerts:
  channel: C0ALERTS
  serverLabel: server
`;

/** An Alertmanager v4 webhook body, as Alertmanager's webhook notifier sends it. */
function webhook(status: 'firing' | 'resolved', alerts: Array<{ server?: string; fingerprint: string; alertname?: string; status?: 'firing' | 'resolved' }>) {
  return {
    version: '4',
    groupKey: '{}:{alertname="SGLangTTFTP99High"}',
    truncatedAlerts: 0,
    status,
    receiver: 'triage',
    groupLabels: { alertname: 'SGLangTTFTP99High' },
    commonLabels: { alertname: 'SGLangTTFTP99High', severity: 'page' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example:9093',
    alerts: alerts.map((a) => ({
      status: a.status ?? status,
      labels: { alertname: a.alertname ?? 'SGLangTTFTP99High', severity: 'page', ...(a.server !== undefined ? { server: a.server } : {}) },
      annotations: { summary: 'TTFT p99 above 2 s for 5 min <!channel>' },
      startsAt: '2026-12-01T10:00:00Z',
      endsAt: status === 'resolved' ? '2026-12-01T10:20:00Z' : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example:9090/graph',
      fingerprint: a.fingerprint,
    })),
  };
}

describe('Alertmanager webhook → incidents (real bot, real Redis, fake Slack)', () => {
  let h: Harness;
  const post = (body: unknown, auth: string | null = `Bearer ${TOKEN}`) =>
    fetch(`${h.botUrl}/alerts/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  beforeAll(async () => {
    h = await startHarness({
      registry: registryYaml({ 'prod-a': { url: 'http://127.0.0.1:9', host: 'gpu-1' }, 'prod-b': { url: 'http://127.0.0.1:9', host: 'gpu-2' } }, ALERTS),
      config: { alertToken: TOKEN },
    });
  });
  afterAll(async () => {
    expect(h.fake.violations).toEqual([]);
    await h?.stop();
  });

  it('refuses anything but the bearer token with 401, and bad bodies with 400', async () => {
    expect((await post(webhook('firing', []), null)).status).toBe(401);
    expect((await post(webhook('firing', []), 'Bearer wrong-token')).status).toBe(401);
    expect((await post(webhook('firing', []), `Bearer ${TOKEN}x`)).status).toBe(401);
    expect((await post(webhook('firing', []), `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`)).status).toBe(401);
    expect((await post(webhook('firing', []), TOKEN)).status).toBe(401);
    expect((await post('{not json')).status).toBe(400);
    const wrongVersion = await post({ ...webhook('firing', []), version: '3' });
    expect(wrongVersion.status).toBe(400);
    expect(((await wrongVersion.json()) as { error: string }).error).toContain('version');
    expect(bearerMatches(`Bearer ${TOKEN}`, undefined)).toBe(false);
  });

  it('firing, repeat and resolve end in one incident with one thread, and a capture queued on the host', async () => {
    const first = await post(webhook('firing', [{ server: 'prod-a', fingerprint: 'a1b2c3d4e5f60718' }]));
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ ok: true, opened: 1 });

    const incident = (await h.store.newestInChannel('C0ALERTS'))!;
    expect(incident).toMatchObject({ server: 'prod-a', host: 'gpu-1', channel: 'C0ALERTS', createdBy: 'alertmanager', jobState: 'queued', pipeline: 'capture' });
    const job = await h.deps.producer.getJob('gpu-1', incident.jobId!);
    expect(await job!.getState()).toBe('waiting');
    const root = h.fake.messages.find((m) => m.channel === 'C0ALERTS' && !m.thread_ts)!;
    expect(root.ts).toBe(incident.threadTs);
    const firing = await h.fake.waitFor(() => h.fake.threadOf(root.ts).find((m) => m.text?.includes('firing on')), 'the alert line');
    // Values from outside are escaped: no @channel ping through an annotation.
    expect(firing.text).toContain('&lt;!channel&gt;');
    expect(firing.text).not.toContain('<!channel>');

    // Alertmanager's repeat_interval: the same fingerprint again joins silently.
    const repeat = await post(webhook('firing', [{ server: 'prod-a', fingerprint: 'a1b2c3d4e5f60718' }]));
    expect(await repeat.json()).toMatchObject({ repeated: 1, opened: 0 });

    const resolved = await post(webhook('resolved', [{ server: 'prod-a', fingerprint: 'a1b2c3d4e5f60718' }]));
    expect(await resolved.json()).toMatchObject({ resolved: 1 });
    await h.fake.waitFor(() => h.fake.threadOf(root.ts).find((m) => m.text?.includes('resolved at 2026-12-01T10:20:00Z')), 'the resolved line');
    // A duplicate resolved notification adds nothing.
    expect(await (await post(webhook('resolved', [{ server: 'prod-a', fingerprint: 'a1b2c3d4e5f60718' }]))).json()).toMatchObject({ resolved: 0, unmatched: 1 });

    // It fires again: the same incident hears of it.
    expect(await (await post(webhook('firing', [{ server: 'prod-a', fingerprint: 'a1b2c3d4e5f60718' }]))).json()).toMatchObject({ joined: 1 });
    await h.fake.waitFor(() => h.fake.threadOf(root.ts).find((m) => m.text?.includes('firing again')), 'the re-fire line');

    expect(h.fake.messages.filter((m) => m.channel === 'C0ALERTS' && !m.thread_ts)).toHaveLength(1);
    expect((await h.store.listActive()).filter((i) => i.server === 'prod-a')).toHaveLength(1);
    const counts = await h.deps.producer.queue('gpu-1').getJobCounts('waiting', 'active', 'delayed');
    expect((counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0)).toBe(1);
    // The thread: the status message, the firing line, the resolved line, the re-fire line. Nothing for the repeat.
    expect(h.fake.threadOf(root.ts).filter((m) => m.text?.includes('Alertmanager'))).toHaveLength(3);
  });

  it('alerts for unregistered servers are counted and logged, never captured', async () => {
    const before = h.fake.messages.length;
    const res = await post(
      webhook('firing', [
        { server: 'prod-z', fingerprint: 'ffff000011112222' },
        { fingerprint: 'ffff000011113333' },
        { server: 'http://10.0.0.9:30000', fingerprint: 'ffff000011114444' },
      ]),
    );
    expect(await res.json()).toMatchObject({ unregistered: 3, opened: 0 });
    expect(h.fake.messages.length).toBe(before);
    expect(await h.deps.metrics.registry.getSingleMetricAsString('triage_alerts_total')).toMatch(/outcome="unregistered"[^}]*\} 3/);
    const counts = await h.deps.producer.queue('gpu-2').getJobCounts('waiting', 'active', 'delayed');
    expect((counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0)).toBe(0);
  });
});
