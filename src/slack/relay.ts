import { QueueEvents, type Job } from 'bullmq';
import type { IncidentStore } from '../incident/store.js';
import type { Logger } from '../pipelines/types.js';
import { MARK_JOB } from '../queue/jobs.js';
import { queueLabel, queueNameFor } from '../queue/names.js';
import type { TriageProducer } from '../queue/producer.js';
import { blockingOptions } from '../queue/redis.js';
import type { ResultPoster } from './results.js';

export interface RelayDeps {
  hosts: readonly string[];
  redisUrl: string;
  prefix: string;
  store: IncidentStore;
  producer: TriageProducer;
  results: ResultPoster;
  logger: Logger;
  reconcileMs: number;
}

/**
 * The bot side of "who posts to Slack": the bot does, because it holds the Slack token and a GPU
 * host may have no egress. Workers only write job progress and results to Redis. This listens to
 * every host queue's events (QueueEvents), and on start and then every reconcileMs looks for
 * finished jobs whose summary was never posted (a bot restart, a Slack outage) and posts them.
 */
export class ResultRelay {
  private readonly listeners: QueueEvents[] = [];
  /** Events of one job are handled one after another, in stream order (stalled before failed). */
  private readonly perJob = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;
  private reconciling?: Promise<void>;

  constructor(private readonly deps: RelayDeps) {}

  async start(): Promise<void> {
    for (const host of this.deps.hosts) {
      const events = new QueueEvents(queueNameFor(host), { connection: blockingOptions(this.deps.redisUrl, `triage-bot-events-${host}`), prefix: this.deps.prefix });
      this.wire(host, events);
      this.listeners.push(events);
    }
    await Promise.all(this.listeners.map((l) => l.waitUntilReady()));
    // Listening before reconciling: nothing finishing in between can be missed (claims dedupe).
    await this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), this.deps.reconcileMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.reconciling;
    await Promise.all(this.perJob.values());
    await this.deps.results.drain();
    await Promise.all(this.listeners.map((l) => l.close()));
    this.listeners.length = 0;
  }

  /** Posts what finished while nobody was listening; marks jobs Redis no longer has as lost. */
  reconcile(): Promise<void> {
    this.reconciling ??= this.reconcileOnce().finally(() => {
      this.reconciling = undefined;
    });
    return this.reconciling;
  }

  private async reconcileOnce(): Promise<void> {
    const { store, producer, results, logger } = this.deps;
    try {
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
      }
    } catch (err) {
      logger.warn('reconcile pass failed; next pass retries', { err });
    }
  }

  private wire(host: string, events: QueueEvents): void {
    const { producer, results, logger } = this.deps;
    const label = queueLabel(this.deps.prefix, host);
    const withJob = (jobId: string, what: string, fn: (job: Job) => Promise<void>): void => {
      const key = `${host}/${jobId}`;
      const next = (this.perJob.get(key) ?? Promise.resolve())
        .then(() => producer.getJob(host, jobId))
        .then((job) => (job && job.name !== MARK_JOB ? fn(job) : undefined))
        .catch((err: unknown) => logger.warn(`handling ${what} failed`, { queue: label, jobId, err }))
        .finally(() => {
          if (this.perJob.get(key) === next) this.perJob.delete(key);
        });
      this.perJob.set(key, next);
    };
    events.on('progress', ({ data }) => results.progress(host, data));
    events.on('completed', ({ jobId }) => withJob(jobId, 'completed', (job) => results.completed(host, job)));
    events.on('failed', ({ jobId, failedReason }) => withJob(jobId, 'failed', (job) => results.failed(host, job, failedReason)));
    events.on('delayed', ({ jobId }) => withJob(jobId, 'retry', (job) => results.retrying(host, job)));
    events.on('stalled', ({ jobId }) => {
      logger.warn('job stalled (its worker died or lost its lock); it goes back to the queue', { queue: label, jobId });
      withJob(jobId, 'stalled', (job) => results.stalled(host, job));
    });
    events.on('error', (err) => logger.warn('queue events error', { queue: label, err }));
  }
}
