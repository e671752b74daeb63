import path from 'node:path';
import { Job, QueueEvents, Worker, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { patchIncidentIf } from '../incident/journal.js';
import type { Logger } from '../pipelines/types.js';
import { queueLabel, queueNameFor } from './names.js';
import { startHeartbeat, type Heartbeat } from './heartbeat.js';
import { MARK_JOB } from './jobs.js';
import { createProcessor, type ProcessorDeps } from './processor.js';
import { ResultPublisher, type ResultEvent } from './results-stream.js';

export interface TriageWorkerOptions extends Omit<ProcessorDeps, 'results'> {
  /** Default: a publisher on `connection`. */
  results?: ResultPublisher;
  /** A dedicated connection (maxRetriesPerRequest: null); BullMQ adds its blocking one. */
  connection: Redis;
  prefix: string;
  concurrency: number;
  /** A job's lock lives this long unless renewed; BullMQ renews it every lockDuration/2 while the job runs. */
  lockDurationMs: number;
  /** How often stalled jobs (a worker died holding them) are looked for and put back. */
  stalledIntervalMs: number;
  /** Times a job may stall before it is failed instead of re-run. */
  maxStalledCount: number;
  logger: Logger;
  /** How often this worker says it is alive (the bot refuses work for hosts without a fresh heartbeat). */
  heartbeatMs?: number;
  /**
   * Where to listen for this queue's own events (a connection BullMQ's QueueEvents opens and owns):
   * a job failed by the stalled check (its worker died too often) emits no local event, only a
   * queue event, and the bots hear of it through the shared stream. Unset: the reconcile pass finds it.
   */
  eventsConnection?: ConnectionOptions;
}

export interface TriageWorker {
  worker: Worker;
  /** Stops taking jobs, lets running ones finish for graceMs, then cancels them (they retry elsewhere). */
  close(graceMs: number): Promise<void>;
}

/** Host side: one BullMQ worker on `<prefix>:<host>` running the shared pipeline code. */
export function createTriageWorker(options: TriageWorkerOptions): TriageWorker {
  const label = queueLabel(options.prefix, options.host);
  const results = options.results ?? new ResultPublisher({ redis: options.connection, prefix: options.prefix });
  const worker = new Worker(queueNameFor(options.host), createProcessor({ ...options, results }), {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: options.maxStalledCount,
    autorun: true,
  });
  const log = options.logger;
  const host = options.host;
  const publish = (event: ResultEvent) => void results.publish(event).catch((err: unknown) => log.warn('result event not published; the bot reconcile pass will find it', { queue: label, type: event.type, err }));
  const markFailed = (incidentId: unknown, reason: string) => {
    if (typeof incidentId !== 'string') return;
    // A job failed for good leaves incident.json as the (maybe dead) worker left it; say failed
    // there too, so the folder on the host agrees with Redis and Slack.
    void markIncidentFailed(path.resolve(options.dataDir, incidentId), reason).catch((e) => log.warn('could not mark incident.json failed', { incidentId, err: e }));
  };
  worker.on('error', (err) => log.warn('worker error', { queue: label, err }));
  worker.on('stalled', (jobId) => {
    log.warn('job stalled; put back for another attempt', { queue: label, jobId });
    publish({ type: 'stalled', host, jobId });
  });
  worker.on('completed', (job) => {
    if (job.name !== MARK_JOB && job.id) publish({ type: 'completed', host, jobId: job.id });
  });
  worker.on('failed', (job, err) => {
    if (!job?.id || job.name === MARK_JOB) return;
    const jobId = job.id;
    // Retried (moved to delayed) or failed for good: the job's state says which.
    void job.getState().then(
      (state) => {
        if (state === 'failed') {
          publish({ type: 'failed', host, jobId, reason: err.message });
          markFailed(job.data?.incidentId, err.message);
        } else {
          publish({ type: 'retrying', host, jobId, reason: err.message });
        }
      },
      (e: unknown) => log.warn('job state unknown after a failure', { queue: label, jobId, err: e }),
    );
  });
  worker.on('active', (job) => log.info('job started', { queue: label, jobId: job.id, pipeline: job.name, attempt: job.attemptsMade + 1 }));

  let events: QueueEvents | undefined;
  if (options.eventsConnection) {
    events = new QueueEvents(queueNameFor(host), { connection: options.eventsConnection, prefix: options.prefix });
    events.on('error', (err) => log.warn('queue events error', { queue: label, err }));
    events.on('failed', ({ jobId, failedReason }) => {
      if (!/stalled more than allowable limit/.test(failedReason)) return;
      publish({ type: 'failed', host, jobId, reason: failedReason });
      void Job.fromId(worker, jobId).then((job) => markFailed(job?.data?.incidentId, failedReason), (e: unknown) => log.warn('stalled job not read', { queue: label, jobId, err: e }));
    });
  }
  const heartbeat: Heartbeat = startHeartbeat({ redis: options.connection, prefix: options.prefix, host, intervalMs: options.heartbeatMs ?? 5000, logger: log });

  return {
    worker,
    async close(graceMs) {
      await heartbeat.stop();
      await events?.close();
      const closing = worker.close();
      const graceful = await Promise.race([closing.then(() => true), sleep(graceMs).then(() => false)]);
      if (graceful) return;
      log.warn('shutdown grace over; cancelling running jobs', { queue: label, graceMs });
      worker.cancelAllJobs('worker shutting down');
      const cancelled = await Promise.race([closing.then(() => true), sleep(Math.max(1000, graceMs / 2)).then(() => false)]);
      // A pipeline that ignores its signal keeps its lock until the process exits; the lock then
      // expires and stalled detection hands the job to the next worker.
      if (!cancelled) log.error('running jobs ignored cancellation; leaving them to stalled detection', { queue: label });
    },
  };
}

async function markIncidentFailed(dir: string, reason: string): Promise<void> {
  await patchIncidentIf(dir, (incident) => incident.status !== 'routed' && incident.status !== 'resolved', { status: 'failed' }, new Date(), { step: 'job', state: 'failed', detail: reason });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
