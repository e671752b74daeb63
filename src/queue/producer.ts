import { Queue, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { MARK_JOB, markJobSchema, pipelineJobSchema, type MarkJobData, type PipelineJobData } from './jobs.js';
import { queueNameFor } from './names.js';
import { ResultPublisher } from './results-stream.js';

export interface ProducerOptions {
  /** Shared, non-blocking connection (the bot's). */
  connection: Redis;
  /** Connection trouble of a queue (the caller's command still fails and is answered). */
  onError?: (err: Error) => void;
  prefix: string;
  /** Attempts per job, the first included; transient faults retry with exponential backoff. */
  attempts: number;
  backoffMs: number;
}

export interface Enqueued {
  jobId: string;
  /** A job for the same incident + pipeline was still waiting or running: that job is the answer. */
  joined: boolean;
}

/** Bot side: one BullMQ queue per GPU host, jobs validated before they cross Redis. */
export class TriageProducer {
  private readonly queues = new Map<string, Queue>();
  private readonly jobOptions: JobsOptions;
  private readonly results: ResultPublisher;

  constructor(private readonly options: ProducerOptions) {
    this.results = new ResultPublisher({ redis: options.connection, prefix: options.prefix });
    this.jobOptions = {
      attempts: options.attempts,
      backoff: { type: 'exponential', delay: options.backoffMs },
      // Keep results long enough for a restarted bot to post what it missed.
      removeOnComplete: { age: 7 * 24 * 3600, count: 5000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    };
  }

  queue(host: string): Queue {
    let queue = this.queues.get(host);
    if (!queue) {
      queue = new Queue(queueNameFor(host), { connection: this.options.connection, prefix: this.options.prefix });
      queue.on('error', (err) => this.options.onError?.(err));
      this.queues.set(host, queue);
    }
    return queue;
  }

  /**
   * Enqueues a pipeline run. While a job with the same dedupe id (incident + pipeline) is still
   * waiting, delayed or active, BullMQ hands back that job instead of adding a second one.
   */
  async enqueue(host: string, data: PipelineJobData, jobId: string): Promise<Enqueued> {
    const valid = pipelineJobSchema.parse(data);
    const job = await this.queue(host).add(valid.pipeline, valid, {
      ...this.jobOptions,
      jobId,
      deduplication: { id: `${valid.incidentId}.${valid.pipeline}` },
    });
    const actual = job.id ?? jobId;
    const joined = actual !== jobId;
    // The bots start the job's pickup watch from this event (a queued job no worker takes is reported).
    if (!joined) await this.results.publish({ type: 'queued', host, jobId: actual, at: job.timestamp }).catch((err: unknown) => this.options.onError?.(err as Error));
    return { jobId: actual, joined };
  }

  /** Tells the host to mark its incident.json resolved (the bot has no access to the host's disk). */
  async enqueueMark(host: string, data: MarkJobData): Promise<void> {
    await this.queue(host).add(MARK_JOB, markJobSchema.parse(data), { ...this.jobOptions, jobId: `${data.incidentId}.mark` });
  }

  async getJob(host: string, jobId: string): Promise<Job | undefined> {
    return this.queue(host).getJob(jobId);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
