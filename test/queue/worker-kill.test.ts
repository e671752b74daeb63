import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readIncidentFile } from '../../src/incident/incident-file.js';
import { afterEach, describe, expect, it } from 'vitest';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';
import { startEmulator, type Emulator } from '../helpers/sglang-emulator.js';
import { postSlashCommand } from '../helpers/slack-requests.js';
import { spawnWorker, type WorkerChild } from '../helpers/worker-child.js';
import { eventually } from '../helpers/eventually.js';

/**
 * The worker as a real child process running the real pipeline, killed with SIGKILL while its
 * job blocks on a hung /health_generate. BullMQ's stalled-job check (run low here: a 1 s lock,
 * checked every 300 ms) must hand the job to the restarted worker, or fail it, never lose it.
 */
describe('worker killed mid-job (child process, SIGKILL)', () => {
  let h: Harness | undefined;
  const emulators: Emulator[] = [];
  const children: WorkerChild[] = [];

  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.kill('SIGKILL')));
    await h?.stop();
    h = undefined;
    await Promise.all(emulators.splice(0).map((e) => e.close()));
  });

  async function setup(maxStalled: number) {
    const hung = await startEmulator({ scenario: 'generate-stalled' });
    const healthy = await startEmulator({ scenario: 'ttft-spike' });
    emulators.push(hung, healthy);
    h = await startHarness({ registry: registryYaml({ 'prod-a': { url: hung.url, host: 'gpu-1' } }) });
    const serversFile = path.join(h.dataDir, 'servers.yaml');
    await writeFile(serversFile, registryYaml({ 'prod-a': { url: hung.url, host: 'gpu-1' } }));
    const env = {
      REDIS_URL: h.redisUrl,
      TRIAGE_SERVERS: serversFile,
      TRIAGE_HOST: 'gpu-1',
      TRIAGE_DATA_DIR: h.dataDir,
      TRIAGE_QUEUE_PREFIX: h.prefix,
      PORT: '0',
      TRIAGE_LISTEN_HOST: '127.0.0.1',
      TRIAGE_LOCK_MS: '1000',
      TRIAGE_STALLED_INTERVAL_MS: '300',
      TRIAGE_MAX_STALLED: String(maxStalled),
      TRIAGE_SHUTDOWN_GRACE_S: '0.5',
    };
    const start = () => {
      const child = spawnWorker(env);
      children.push(child);
      return child;
    };
    return { hung, healthy, serversFile, env, start, h };
  }

  async function killMidJob(ctx: Awaited<ReturnType<typeof setup>>) {
    const first = ctx.start();
    const { opsPort } = await first.ready;
    expect((await fetch(`http://127.0.0.1:${opsPort}/healthz`)).status).toBe(200);
    await postSlashCommand(ctx.h.botUrl, ctx.h.fake, { text: 'capture prod-a' });
    const incident = await eventually(async () => {
      const i = await ctx.h.store.newestInChannel('C0OPS');
      return i?.jobState === 'running' && i.steps.length ? i : undefined;
    });
    await eventually(() => ctx.hung.hits.includes('/health_generate'), 'the capture to reach /health_generate');
    await first.kill('SIGKILL');
    return incident;
  }

  it('the restarted worker picks the stalled job up and the summary still arrives', { timeout: 60_000 }, async () => {
    const ctx = await setup(1);
    const incident = await killMidJob(ctx);
    // The server recovered while the worker was down.
    await writeFile(ctx.serversFile, registryYaml({ 'prod-a': { url: ctx.healthy.url, host: 'gpu-1' } }));
    const second = ctx.start();
    await second.ready;

    const summary = await ctx.h.fake.waitFor(() => ctx.h.fake.threadOf(incident.threadTs!).find((m) => m.blocks?.some((b) => (b as { block_id?: string }).block_id === 'triage.summary')), 'summary after restart', 30_000);
    expect(summary.text).toMatch(/slow on prod-a/);
    const record = await ctx.h.store.require(incident.id);
    expect(record).toMatchObject({ status: 'open', jobState: 'done', problemClass: 'slow' });
    expect(record.timeline.some((t) => t.kind === 'retry' && t.text.includes('stalled'))).toBe(true);
    expect(second.logs.some((l) => l.msg === 'job started' && l.jobId === incident.jobId)).toBe(true);
    expect(ctx.healthy.hits).toContain('/health_generate');
  });

  it('with no stalls allowed, the incident is reported failed in its thread', { timeout: 60_000 }, async () => {
    const ctx = await setup(0);
    const incident = await killMidJob(ctx);
    await ctx.start().ready;
    const notice = await ctx.h.fake.waitFor(() => ctx.h.fake.threadOf(incident.threadTs!).find((m) => m.text?.includes('capture failed on prod-a')), 'failure notice', 20_000);
    expect(notice.text).toMatch(/stalled/);
    await eventually(async () => (await ctx.h.store.require(incident.id)).status === 'failed', 'the incident to be failed');
    expect((await ctx.h.store.require(incident.id)).failure).toMatch(/stalled/);
    // The folder on the host agrees: incident.json says failed, with the reason on its timeline.
    const onHost = await eventually(async () => {
      const file = await readIncidentFile(path.join(ctx.h.dataDir, incident.id));
      return file?.status === 'failed' ? file : undefined;
    }, 'incident.json to say failed');
    expect(onHost.timeline.at(-1)?.detail).toMatch(/stalled/);
  });

  it('SIGTERM stops the worker gracefully: running jobs are cancelled back to the queue', { timeout: 60_000 }, async () => {
    const ctx = await setup(1);
    const worker = ctx.start();
    await worker.ready;
    await postSlashCommand(ctx.h.botUrl, ctx.h.fake, { text: 'capture prod-a' });
    const incident = await eventually(async () => {
      const i = await ctx.h.store.newestInChannel('C0OPS');
      return i?.jobState === 'running' ? i : undefined;
    });
    const started = Date.now();
    expect(await worker.kill('SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(worker.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['worker stopping', 'shutdown grace over; cancelling running jobs', 'worker stopped']));
    const job = await ctx.h.deps.producer.getJob('gpu-1', incident.jobId!);
    expect(['delayed', 'waiting', 'wait']).toContain(await job!.getState());
  });
});
