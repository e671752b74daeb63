import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRegistry } from '../../src/config/servers.js';
import { TriageError } from '../../src/errors.js';
import { IncidentStore } from '../../src/incident/store.js';
import type { PipelineJobData, PipelineRunner } from '../../src/queue/jobs.js';
import { silentLogger } from '../../src/queue/json-logger.js';
import { createWorkerMetrics } from '../../src/queue/metrics.js';
import { queueNameFor } from '../../src/queue/names.js';
import { TriageProducer } from '../../src/queue/producer.js';
import { blockingConnection, commandConnection } from '../../src/queue/redis.js';
import { createTriageWorker, type TriageWorker } from '../../src/queue/worker.js';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis-test.js';
import { blockingRunner, flakyRunner, reportRunner } from '../helpers/runners.js';

const registry = parseRegistry('servers:\n  prod-a:\n    url: http://127.0.0.1:9\n    host: gpu-1\n  prod-b:\n    url: http://127.0.0.1:9\n    host: gpu-2\n', 'test');

describe('host worker (real Redis, real BullMQ)', () => {
  let prefix: string;
  let redis: Redis;
  let workerRedis: Redis;
  let store: IncidentStore;
  let producer: TriageProducer;
  let events: QueueEvents;
  let dataDir: string;
  let worker: TriageWorker | undefined;
  let metrics: ReturnType<typeof createWorkerMetrics>;

  beforeEach(async () => {
    prefix = uniquePrefix();
    redis = commandConnection(REDIS_URL, 'test');
    workerRedis = blockingConnection(REDIS_URL, 'test-worker');
    store = new IncidentStore({ redis, prefix, now: () => new Date() });
    producer = new TriageProducer({ connection: redis, prefix, attempts: 3, backoffMs: 50 });
    events = new QueueEvents(queueNameFor('gpu-1'), { connection: { host: '127.0.0.1', port: 6379 }, prefix });
    await events.waitUntilReady();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'triage-worker-'));
    metrics = createWorkerMetrics({ host: 'gpu-1', defaults: false });
  });
  afterEach(async () => {
    await worker?.close(1000);
    worker = undefined;
    await events.close();
    await producer.close();
    redis.disconnect();
    workerRedis.disconnect();
    await cleanupPrefix(prefix);
    await rm(dataDir, { recursive: true, force: true });
  });

  function start(runPipeline: PipelineRunner, opts: { lockDurationMs?: number; stalledIntervalMs?: number; jobTimeoutMs?: number } = {}) {
    worker = createTriageWorker({
      host: 'gpu-1',
      registry,
      dataDir,
      runPipeline,
      pipelineDeps: { registry, env: {}, now: () => new Date(), logger: silentLogger },
      store,
      metrics,
      logger: silentLogger,
      jobTimeoutMs: opts.jobTimeoutMs ?? 30_000,
      connection: workerRedis,
      prefix,
      concurrency: 2,
      lockDurationMs: opts.lockDurationMs ?? 30_000,
      stalledIntervalMs: opts.stalledIntervalMs ?? 30_000,
      maxStalledCount: 1,
    });
    return worker;
  }

  async function enqueue(data: Partial<PipelineJobData> = {}) {
    const { incident } = await store.open({ server: 'prod-a', host: 'gpu-1', channel: 'C1', createdBy: 'U1', pipeline: 'capture' }, { scope: `prod-a-${Math.random()}`, windowMs: 60_000 });
    const begun = await store.beginJob(incident.id, 'capture');
    if (begun.outcome !== 'started') throw new Error('not started');
    const job: PipelineJobData = { incidentId: incident.id, server: 'prod-a', pipeline: 'capture', requestedBy: 'U1', createdAt: incident.createdAt, ...data };
    await producer.enqueue('gpu-1', job, begun.jobId);
    return { incident, jobId: begun.jobId };
  }

  function finished(jobId: string): Promise<{ state: 'completed' | 'failed'; job: Job }> {
    return new Promise((resolve) => {
      const done = async (state: 'completed' | 'failed', id: string) => {
        if (id !== jobId) return;
        resolve({ state, job: (await producer.getJob('gpu-1', jobId))! });
      };
      events.on('completed', ({ jobId: id }) => void done('completed', id));
      events.on('failed', ({ jobId: id }) => void done('failed', id));
    });
  }

  it('runs the pipeline, records progress and the verdict, and writes incident.json', async () => {
    const progress: unknown[] = [];
    events.on('progress', ({ data }) => progress.push(data));
    start(reportRunner());
    const { incident, jobId } = await enqueue({ slack: { channel: 'C1', threadTs: '1.1', statusTs: '1.2' } });
    const { state, job } = await finished(jobId);
    expect(state).toBe('completed');
    expect(job.returnvalue).toMatchObject({ incidentId: incident.id, problemClass: 'slow' });
    const record = await store.require(incident.id);
    expect(record).toMatchObject({ jobState: 'done', problemClass: 'slow', nextSkill: 'llm-torch-profiler-analysis', incidentDir: path.join(dataDir, incident.id) });
    expect(record.steps.map((s) => `${s.step}:${s.state}`)).toEqual(['capture baseline bundle:done', 'route:done']);
    expect(progress.at(-1)).toMatchObject({ incidentId: incident.id, server: 'prod-a', slack: { statusTs: '1.2' }, steps: [{ state: 'done' }, { state: 'done' }] });
    const file = JSON.parse(await readFile(path.join(dataDir, incident.id, 'incident.json'), 'utf8')) as Record<string, unknown>;
    expect(file).toMatchObject({ id: incident.id, server: 'prod-a', host: 'gpu-1', createdAt: incident.createdAt });
    expect(await metrics.registry.getSingleMetricAsString('triage_worker_jobs_total')).toMatch(/outcome="completed"[^}]*} 1/);
  });

  it('bad input is an UnrecoverableError: failed at once, never retried', async () => {
    const runner = flakyRunner([new TriageError('E_BAD_INPUT', 'pickle opcode 0xff is not allowed')]);
    start(runner);
    const { jobId, incident } = await enqueue();
    const { state, job } = await finished(jobId);
    expect(state).toBe('failed');
    expect(runner.calls).toBe(1);
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toContain('[E_BAD_INPUT]');
    expect((await store.require(incident.id)).jobState).toBe('failed');
  });

  it('a job for a server the worker does not serve fails without retry', async () => {
    const runner = reportRunner();
    start(runner);
    const { jobId } = await enqueue({ server: 'prod-b' });
    const { state, job } = await finished(jobId);
    expect(state).toBe('failed');
    expect(job.failedReason).toMatch(/belongs to host gpu-2/);
    expect(job.attemptsMade).toBe(1);
    expect(runner.calls).toBe(0);
  });

  it('transient faults retry with backoff, then complete', async () => {
    const runner = flakyRunner([new TriageError('E_TRANSIENT', 'connection reset'), new TriageError('E_TIMEOUT', 'step passed its deadline')]);
    start(runner);
    const { jobId, incident } = await enqueue();
    const { state, job } = await finished(jobId);
    expect(state).toBe('completed');
    expect(runner.calls).toBe(3);
    expect(job.attemptsMade).toBe(3);
    const record = await store.require(incident.id);
    expect(record.timeline.filter((t) => t.kind === 'retry').map((t) => t.text)).toEqual([
      expect.stringContaining('attempt 1 failed, retrying: connection reset'),
      expect.stringContaining('attempt 2 failed, retrying: step passed its deadline'),
    ]);
  });

  it('a long job keeps its lock: no stall, one run', async () => {
    const stalled: string[] = [];
    events.on('stalled', ({ jobId }) => stalled.push(jobId));
    const runner = reportRunner({ stepMs: 1200 });
    start(runner, { lockDurationMs: 600, stalledIntervalMs: 200 });
    const { jobId } = await enqueue();
    const { state, job } = await finished(jobId);
    expect(state).toBe('completed');
    expect(stalled).toEqual([]);
    expect(runner.calls).toBe(1);
    expect(job.attemptsMade).toBe(1);
  });

  it('a job past its deadline is aborted and reported as a timeout', async () => {
    start(blockingRunner(), { jobTimeoutMs: 300 });
    const { jobId } = await enqueue();
    const { state, job } = await finished(jobId);
    expect(state).toBe('failed');
    expect(job.failedReason).toMatch(/deadline \[timeout\]/);
    expect(job.attemptsMade).toBe(3);
  });

  it('closing with a short grace cancels the running job, which goes back to the queue', async () => {
    const runner = blockingRunner();
    const w = start(runner);
    const { jobId } = await enqueue();
    await runner.started;
    await w.close(200);
    worker = undefined;
    const job = await producer.getJob('gpu-1', jobId);
    expect(['delayed', 'wait', 'waiting']).toContain(await job!.getState());
    expect(job!.attemptsMade).toBe(1);
  });

  it('a mark job makes the host incident.json say resolved', async () => {
    start(reportRunner());
    const { incident, jobId } = await enqueue();
    await finished(jobId);
    await producer.enqueueMark('gpu-1', { incidentId: incident.id, server: 'prod-a', status: 'resolved', by: 'U0BOB' });
    await finished(`${incident.id}.mark`);
    const file = JSON.parse(await readFile(path.join(dataDir, incident.id, 'incident.json'), 'utf8')) as { status: string; timeline: Array<{ step: string }> };
    expect(file.status).toBe('resolved');
    expect(file.timeline.at(-1)?.step).toBe('mark resolved');
  });

  it('names queues <prefix>:{<host>} through the prefix option (BullMQ forbids ":" in names), hash-tagged per host', async () => {
    await enqueue();
    const keys = await redis.keys(`${prefix}:{gpu-1}:*`);
    expect(keys).toEqual(expect.arrayContaining([`${prefix}:{gpu-1}:meta`, `${prefix}:{gpu-1}:events`]));
    // Redis Cluster hashes only the {…} part (ioredis's own slot function): one slot per host queue,
    // so BullMQ's multi-key scripts work, and different hosts land on different slots.
    for (const key of keys) expect(clusterKeySlot(key)).toBe(clusterKeySlot(`${prefix}:{gpu-1}:wait`));
    expect(clusterKeySlot(`${prefix}:{gpu-1}:wait`)).not.toBe(clusterKeySlot(`${prefix}:{gpu-2}:wait`));
    expect(() => new Queue('triage:gpu-1', { connection: redis })).toThrow(/cannot contain :/);
  });
});

/** Redis Cluster's key slot: CRC16/XMODEM of the hash tag (the first non-empty {…}) or of the key, mod 16384. */
function clusterKeySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open >= 0 ? key.indexOf('}', open + 1) : -1;
  const tag = close > open + 1 ? key.slice(open + 1, close) : key;
  let crc = 0;
  for (const byte of Buffer.from(tag)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
