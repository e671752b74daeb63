import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-test.js';
import { reportRunner } from '../helpers/runners.js';
import { postSlashCommand } from '../helpers/slack-requests.js';
import { eventually } from '../helpers/eventually.js';

/**
 * Redis killed (SIGKILL) and restarted while a job runs. "Survive" here means: Redis runs with
 * AOF and appendfsync always (what production must use), so every acknowledged write (the
 * incident, the queued and active job, its lock) is back after the restart; the worker finishes
 * its job, its lock renewals and progress catch up on reconnect, and the bot, whose event
 * listener resumes from its last stream id, posts the summary. Without persistence nothing of
 * the incident would be left to recover; that mode is not supported.
 */
describe('Redis restarts mid-job', () => {
  let redis: PrivateRedis;
  let dir: string;
  let h: Harness;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'triage-redis-'));
    redis = await startPrivateRedis(dir);
    h = await startHarness({
      registry: registryYaml({ 'prod-a': { url: 'http://127.0.0.1:9', host: 'gpu-1' }, 'prod-b': { url: 'http://127.0.0.1:9', host: 'gpu-1' } }),
      redisUrl: redis.url,
      workers: [{ host: 'gpu-1', runPipeline: reportRunner({ stepMs: 700, steps: ['capture baseline bundle', 'summarise', 'route'] }), lockDurationMs: 5000, stalledIntervalMs: 1000 }],
    });
  });
  afterAll(async () => {
    await h?.stop();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the running job completes and its summary is posted; a command during the outage is still acked', async () => {
    await postSlashCommand(h.botUrl, h.fake, { text: 'capture prod-a' });
    const incident = await eventually(async () => {
      const i = await h.store.newestInChannel('C0OPS');
      return i?.jobState === 'running' && i.steps.length ? i : undefined;
    });

    await redis.kill();
    let during;
    let answer;
    try {
      during = await postSlashCommand(h.botUrl, h.fake, { text: 'capture prod-b' });
      answer = await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === during!.responseUrl), 'answer during the outage', 10_000);
    } finally {
      await redis.restart();
    }
    expect(during.status).toBe(200);
    expect(during.ms).toBeLessThan(3000);
    expect(String(answer.body.text)).toContain('Redis) is not answering');

    const summary = await h.fake.waitFor(() => h.fake.threadOf(incident.threadTs!).find((m) => m.blocks?.some((b) => (b as { block_id?: string }).block_id === 'triage.summary')), 'summary after the restart', 30_000);
    expect(summary.text).toMatch(/slow on prod-a/);
    // The bot records summaryTs right after chat.postMessage returns: wait for that write, not just the message.
    const record = await eventually(async () => {
      const r = await h.store.require(incident.id);
      return r.summaryTs ? r : undefined;
    }, 'summaryTs recorded');
    expect(record).toMatchObject({ jobState: 'done', problemClass: 'slow', summaryTs: summary.ts });
    expect(record.steps.map((s) => s.state)).toEqual(['done', 'done', 'done']);
    const job = await h.deps.producer.getJob('gpu-1', incident.jobId!);
    expect(job?.attemptsMade).toBe(1);
    expect(h.fake.violations).toEqual([]);
  });
});
