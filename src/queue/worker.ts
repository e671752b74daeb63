import path from 'node:path';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { patchIncidentIf } from '../incident/journal.js';
import type { Logger } from '../pipelines/types.js';
import { queueLabel, queueNameFor } from './names.js';
import { createProcessor, type ProcessorDeps } from './processor.js';

export interface TriageWorkerOptions extends ProcessorDeps {
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
}

export interface TriageWorker {
  worker: Worker;
  /** Stops taking jobs, lets running ones finish for graceMs, then cancels them (they retry elsewhere). */
  close(graceMs: number): Promise<void>;
}

/** Host side: one BullMQ worker on `<prefix>:<host>` running the shared pipeline code. */
export function createTriageWorker(options: TriageWorkerOptions): TriageWorker {
  const label = queueLabel(options.prefix, options.host);
  const worker = new Worker(queueNameFor(options.host), createProcessor(options), {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: options.maxStalledCount,
    autorun: true,
  });
  const log = options.logger;
  worker.on('error', (err) => log.warn('worker error', { queue: label, err }));
  worker.on('stalled', (jobId) => log.warn('job stalled; put back for another attempt', { queue: label, jobId }));
  // A job failed for good (too many stalls: its worker kept dying) leaves incident.json as the dead
  // worker left it; say failed there too, so the folder on the host agrees with Redis and Slack.
  worker.on('failed', (job, err) => {
    if (!job || job.attemptsMade < (job.opts.attempts ?? 1) && !/stalled/i.test(err.message)) return;
    const incidentId = (job.data as { incidentId?: unknown }).incidentId;
    if (typeof incidentId !== 'string') return;
    void markIncidentFailed(path.resolve(options.dataDir, incidentId), err.message).catch((e) => log.warn('could not mark incident.json failed', { incidentId, err: e }));
  });
  worker.on('active', (job) => log.info('job started', { queue: label, jobId: job.id, pipeline: job.name, attempt: job.attemptsMade + 1 }));

  return {
    worker,
    async close(graceMs) {
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
