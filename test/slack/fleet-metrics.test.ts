import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heartbeatKey } from '../../src/queue/heartbeat.js';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';
import { postSlashCommand } from '../helpers/slack-requests.js';

const HOSTS = 40;

/** Issue 11.7 and 11.8: bounded metric labels, fleet gauges, and a Redis connection count that does not grow with hosts. */
describe('bot metrics and connections at fleet size (real bot, real Redis)', () => {
  let h: Harness;
  beforeAll(async () => {
    const servers = Object.fromEntries(Array.from({ length: HOSTS }, (_, i) => [`srv-${i}`, { url: 'http://127.0.0.1:9', host: `gpu-${i}` }]));
    h = await startHarness({ registry: registryYaml(servers) });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const scrape = async () => (await fetch(`${h.botUrl}/metrics`)).text();

  it('the command label takes known subcommands only: typos count as unknown', async () => {
    for (const text of ['frobnicate', 'captuer srv-0', `${'x'.repeat(500)} y`, 'help']) await postSlashCommand(h.botUrl, h.fake, { text });
    const text = await scrape();
    expect(text).toMatch(/triage_slack_commands_total\{[^}]*command="unknown",outcome="usage"[^}]*\} 3/);
    expect(text).toMatch(/triage_slack_commands_total\{[^}]*command="help",outcome="ok"[^}]*\} 1/);
    expect(text).not.toContain('frobnicate');
    expect(text).not.toContain('captuer');
    expect(text).toMatch(/triage_slack_ack_seconds_count\{[^}]*command="unknown"[^}]*\} 3/);
  });

  it('exports queue depth per host, worker liveness and incidents by state', async () => {
    const res = await postSlashCommand(h.botUrl, h.fake, { text: 'capture srv-3' });
    await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === res.responseUrl), 'capture answer');
    await h.deps.redis.hset(heartbeatKey(h.prefix), 'gpu-3', String(Date.now()), 'gpu-4', String(Date.now() - 10 * 60_000));
    const text = await scrape();
    expect(text).toMatch(/triage_queue_jobs\{host="gpu-3",state="waiting"[^}]*\} 1/);
    expect(text).toMatch(/triage_queue_jobs\{host="gpu-5",state="waiting"[^}]*\} 0/);
    expect(text).toMatch(/triage_worker_up\{host="gpu-3"[^}]*\} 1/);
    expect(text).toMatch(/triage_worker_up\{host="gpu-4"[^}]*\} 0/);
    expect(text).toMatch(/triage_worker_up\{host="gpu-7"[^}]*\} 0/);
    expect(text).toMatch(/triage_worker_heartbeat_age_seconds\{host="gpu-4"[^}]*\} 6\d\d/);
    expect(text).toMatch(/triage_incidents\{state="open"[^}]*\} 1/);
    // One series per registered host, never more.
    expect(text.match(/^triage_worker_up\{/gm)).toHaveLength(HOSTS);
  });

  it(`holds two Redis connections with ${HOSTS} host queues: one for commands, one for the shared results stream`, async () => {
    // Touch every host queue (the scrape above read each one's counts) and reconcile once more.
    await scrape();
    await h.bot.relay.reconcile();
    const clients = String(await h.deps.redis.client('LIST')).split('\n').filter((line) => line.includes(` name=bot-${h.prefix}`));
    expect(clients.map((line) => /name=(\S+)/.exec(line)?.[1]).sort()).toEqual([`bot-${h.prefix}`, `bot-${h.prefix}-results`]);
  });
});
