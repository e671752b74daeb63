import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';
import { postSlashCommand } from '../helpers/slack-requests.js';

describe('the HTTP receiver: request signatures, /healthz and /metrics', () => {
  let h: Harness;
  let slackClock = Date.now();
  beforeAll(async () => {
    h = await startHarness({ registry: registryYaml({ 'prod-a': { url: 'http://127.0.0.1:9', host: 'gpu-1' } }), fake: { now: () => slackClock } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('accepts a correctly signed request', async () => {
    const res = await postSlashCommand(h.botUrl, h.fake, { text: 'help' });
    expect(res.status).toBe(200);
  });

  it('refuses a bad signature and a timestamp older than 5 minutes, before any listener runs', async () => {
    const audited = (await h.deps.audit.recent(100)).length;
    const bad = await postSlashCommand(h.botUrl, h.fake, { text: 'capture prod-a' }, { badSignature: true });
    const stale = await postSlashCommand(h.botUrl, h.fake, { text: 'capture prod-a' }, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    const wrongSecret = await postSlashCommand(h.botUrl, h.fake, { text: 'capture prod-a' }, { secret: 'not-the-secret' });
    expect([bad.status, stale.status, wrongSecret.status]).toEqual([401, 401, 401]);
    expect((await h.deps.audit.recent(100)).length).toBe(audited);
    expect(h.fake.callsOf('chat.postMessage')).toEqual([]);
  });

  it('serves /healthz and Prometheus /metrics from its own registry', async () => {
    const health = await fetch(`${h.botUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, checks: { redis: 'ready' } });

    await postSlashCommand(h.botUrl, h.fake, { text: 'capture nope' });
    const metrics = await (await fetch(`${h.botUrl}/metrics`)).text();
    expect(metrics).toMatch(/triage_slack_commands_total\{command="help",outcome="ok"[^}]*\} 1/);
    expect(metrics).toMatch(/triage_slack_commands_total\{command="capture",outcome="unknown-server"[^}]*\} 1/);
    expect(metrics).toMatch(/triage_slack_ack_seconds_bucket\{le="0.2",[^}]*command="help"\} [1-9]/);
    expect(metrics).toContain('triage_jobs_total');
    expect(metrics).toContain('triage_slack_api_errors_total');
    // prom-client's global registry stays empty: two bots in one process never clash.
    const { register } = await import('prom-client');
    expect(await register.getMetricsAsJSON()).toEqual([]);
  });

  it('falls back to chat.postEphemeral when the response_url is refused (expired)', async () => {
    const responseUrl = h.fake.responseUrl();
    slackClock += 31 * 60_000;
    try {
      await postSlashCommand(h.botUrl, h.fake, { text: 'status inc-none', response_url: responseUrl, user_id: 'U0CAROL' });
      const fallback = await h.fake.waitFor(() => h.fake.ephemerals.find((e) => e.user === 'U0CAROL'), 'chat.postEphemeral');
      expect(fallback).toMatchObject({ channel: 'C0OPS', text: 'No incident `inc-none` in this channel.' });
      expect(h.fake.violations).toEqual(['response_url used after 30 minutes']);
    } finally {
      slackClock -= 31 * 60_000;
    }
  });
});
