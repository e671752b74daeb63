import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { IncidentStore } from '../incident/store.js';
import type { Logger } from '../pipelines/types.js';
import { MARK_JOB } from '../queue/jobs.js';
import { queueLabel } from '../queue/names.js';
import type { TriageProducer } from '../queue/producer.js';
import { ResultConsumer, type ResultEvent } from '../queue/results-stream.js';
import type { ResultPoster } from './results.js';

export interface RelayDeps {
  /** The relay's own blocking connection (it holds XREADGROUP BLOCK); closed by close(). */
  connection: Redis;
  /** The bot's shared command connection (acks, take-overs). */
  commands: Redis;
  prefix: string;
  store: IncidentStore;
  producer: TriageProducer;
  results: ResultPoster;
  logger: Logger;
  reconcileMs: number;
  /** A job still waiting this long after it was queued is reported in its thread: no worker took it. */
  pickupWindowMs: number;
  now: () => number;
}

/** BullMQ states of a job no worker has taken yet. */
const UNCLAIMED = new Set(['waiting', 'wait', 'prioritized']);

/**
 * The bot side of "who posts to Slack": the bot does, because it holds the Slack token and a GPU
 * host may have no egress. Workers write job progress and outcomes to ONE shared Redis stream
 * (src/queue/results-stream.ts), which this reads through one blocking connection whatever the
 * number of host queues. On start and then every reconcileMs it also looks for finished jobs
 * whose summary was never posted (a bot restart, a Slack outage, an event lost with its worker),
 * for jobs no worker picked up, and for stream entries a dead bot replica left unhandled.
 */
export class ResultRelay {
  private readonly consumer: ResultConsumer;
  /** Events of one job are handled one after another, in stream order (stalled before failed). */
  private readonly perJob = new Map<string, Promise<void>>();
  private readonly pickupTimers = new Map<string, NodeJS.Timeout>();
  private timer?: NodeJS.Timeout;
  private reconciling?: Promise<void>;

  constructor(private readonly deps: RelayDeps) {
    this.consumer = new ResultConsumer({ redis: deps.connection, commands: deps.commands, prefix: deps.prefix, logger: deps.logger, handle: async (event) => this.handle(event) });
  }

  async start(): Promise<void> {
    // Listening before reconciling: nothing finishing in between can be missed (claims dedupe).
    await this.consumer.start();
    await this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), this.deps.reconcileMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const t of this.pickupTimers.values()) clearTimeout(t);
    this.pickupTimers.clear();
    await this.reconciling;
    await this.consumer.close();
    await Promise.all(this.perJob.values());
    await this.deps.results.drain();
  }

  /** Posts what finished while nobody was listening; marks jobs Redis no longer has as lost. */
  reconcile(): Promise<void> {
    this.reconciling ??= this.reconcileOnce().finally(() => {
      this.reconciling = undefined;
    });
    return this.reconciling;
  }

  /** Routes one stream event; returns at once (handling runs on the job's own chain). */
  private handle(event: ResultEvent): void {
    const { results } = this.deps;
    const { host, jobId } = event;
    switch (event.type) {
      case 'queued':
        return this.watchPickup(host, jobId, event.at);
      case 'progress':
        this.clearPickup(jobId);
        return results.progress(host, event.progress);
      case 'completed':
        this.clearPickup(jobId);
        return this.withJob(host, jobId, 'completed', (job) => results.completed(host, job));
      case 'failed':
        this.clearPickup(jobId);
        return this.withJob(host, jobId, 'failed', (job) => results.failed(host, job, event.reason));
      case 'retrying':
        return this.withJob(host, jobId, 'retry', (job) => results.retrying(host, job));
      case 'stalled':
        this.deps.logger.warn('job stalled (its worker died or lost its lock); it goes back to the queue', { queue: queueLabel(this.deps.prefix, host), jobId });
        return this.withJob(host, jobId, 'stalled', (job) => results.stalled(host, job));
    }
  }

  private withJob(host: string, jobId: string, what: string, fn: (job: Job) => Promise<void>): void {
    const { producer, logger } = this.deps;
    const key = `${host}/${jobId}`;
    const next = (this.perJob.get(key) ?? Promise.resolve())
      .then(() => producer.getJob(host, jobId))
      .then((job) => (job && job.name !== MARK_JOB ? fn(job) : undefined))
      .catch((err: unknown) => logger.warn(`handling ${what} failed`, { queue: queueLabel(this.deps.prefix, host), jobId, err }))
      .finally(() => {
        if (this.perJob.get(key) === next) this.perJob.delete(key);
      });
    this.perJob.set(key, next);
  }

  private watchPickup(host: string, jobId: string, queuedAt: number): void {
    this.clearPickup(jobId);
    const wait = Math.max(0, queuedAt + this.deps.pickupWindowMs - this.deps.now());
    const timer = setTimeout(() => {
      this.pickupTimers.delete(jobId);
      this.withJob(host, jobId, 'pickup check', (job) => this.checkPickup(host, job));
    }, wait);
    timer.unref();
    this.pickupTimers.set(jobId, timer);
  }

  private clearPickup(jobId: string): void {
    const timer = this.pickupTimers.get(jobId);
    if (timer) clearTimeout(timer);
    this.pickupTimers.delete(jobId);
  }

  private async checkPickup(host: string, job: Job): Promise<void> {
    if (this.deps.now() - job.timestamp < this.deps.pickupWindowMs) return;
    if (!UNCLAIMED.has(await job.getState())) return;
    await this.deps.results.notPickedUp(host, job, this.deps.pickupWindowMs);
  }

  private async reconcileOnce(): Promise<void> {
    const { store, producer, results, logger } = this.deps;
    try {
      await this.consumer.claimAbandoned();
      for (const incident of await store.listActive(500)) {
        if (!incident.jobId) continue;
        const job = await producer.getJob(incident.host, incident.jobId);
        if (!job) {
          if (incident.jobState === 'queued' || incident.jobState === 'running' || incident.jobState === 'retrying') {
            await store.updateForJob(incident.id, incident.jobId, { jobState: 'failed', failure: 'the job is no longer in Redis (lost in a Redis restart without persistence?)' });
            await store.append(incident.id, { kind: 'failed', text: `job ${incident.jobId} lost from the queue` });
          }
          continue;
        }
        const state = await job.getState();
        if (state === 'completed') await results.completed(incident.host, job);
        else if (state === 'failed') await results.failed(incident.host, job, job.failedReason || 'failed');
        else if (UNCLAIMED.has(state) && this.deps.now() - job.timestamp >= this.deps.pickupWindowMs) await results.notPickedUp(incident.host, job, this.deps.pickupWindowMs);
      }
    } catch (err) {
      logger.warn('reconcile pass failed; next pass retries', { err });
    }
  }
}
