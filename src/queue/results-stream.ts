import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../pipelines/types.js';
import { jobProgressSchema } from './jobs.js';

/**
 * One Redis stream (`<prefix>:@results`) carries every host queue's job events back to the bots,
 * so a bot holds one blocking connection however many GPU hosts the fleet has (BullMQ's
 * QueueEvents would need one per host queue). Workers (and the bot's producer, for `queued`)
 * XADD; the bots read it as one consumer group, so each event is handled by one bot replica and
 * acknowledged after it was handled. An event lost anyway (a worker killed between finishing a
 * job and publishing) is found by the bot's reconcile pass, which reads job states directly.
 */
export const resultEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('queued'), host: z.string(), jobId: z.string(), at: z.number() }),
  z.object({ type: z.literal('progress'), host: z.string(), jobId: z.string(), progress: jobProgressSchema }),
  z.object({ type: z.literal('completed'), host: z.string(), jobId: z.string() }),
  z.object({ type: z.literal('retrying'), host: z.string(), jobId: z.string(), reason: z.string() }),
  z.object({ type: z.literal('failed'), host: z.string(), jobId: z.string(), reason: z.string() }),
  z.object({ type: z.literal('stalled'), host: z.string(), jobId: z.string() }),
]);
export type ResultEvent = z.infer<typeof resultEventSchema>;

export function resultsStreamKey(prefix: string): string {
  return `${prefix}:@results`;
}

export const RESULTS_GROUP = 'bots';

/** Worker (and producer) side: append an event; the stream is capped, approximately. */
export class ResultPublisher {
  constructor(private readonly options: { redis: Redis; prefix: string; maxLen?: number }) {}

  async publish(event: ResultEvent): Promise<void> {
    await this.options.redis.xadd(resultsStreamKey(this.options.prefix), 'MAXLEN', '~', String(this.options.maxLen ?? 10_000), '*', 'event', JSON.stringify(event));
  }
}

export interface ResultConsumerOptions {
  /** A connection of its own (maxRetriesPerRequest: null): XREADGROUP BLOCK holds it. */
  redis: Redis;
  /** A shared, non-blocking connection for XACK, XAUTOCLAIM and XGROUP (never queued behind the BLOCK). */
  commands: Redis;
  prefix: string;
  handle: (event: ResultEvent) => Promise<void>;
  logger: Logger;
  /** Entries another bot read but never acknowledged (it died) are taken over after this long. */
  claimIdleMs?: number;
  blockMs?: number;
  consumer?: string;
}

/** Bot side: one consumer of the shared group, reading until close(). */
export class ResultConsumer {
  readonly consumer: string;
  private readonly key: string;
  private running = false;
  private loop?: Promise<void>;

  constructor(private readonly options: ResultConsumerOptions) {
    this.key = resultsStreamKey(options.prefix);
    this.consumer = options.consumer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  }

  async start(): Promise<void> {
    await this.ensureGroup();
    this.running = true;
    this.loop = this.run();
  }

  private async ensureGroup(): Promise<void> {
    try {
      // '$': a new group starts at the stream's end; what finished before is the reconcile pass's job.
      await this.options.commands.xgroup('CREATE', this.key, RESULTS_GROUP, '$', 'MKSTREAM');
    } catch (err) {
      if (!/BUSYGROUP/.test((err as Error).message)) throw err;
    }
  }

  /** Takes over entries a dead bot left unacknowledged; the reconcile pass calls this. */
  async claimAbandoned(): Promise<number> {
    const reply = (await this.options.commands.xautoclaim(this.key, RESULTS_GROUP, this.consumer, this.options.claimIdleMs ?? 60_000, '0-0', 'COUNT', 100)) as [string, Array<[string, string[]]>];
    const entries = reply[1] ?? [];
    await this.process(entries);
    return entries.length;
  }

  async close(): Promise<void> {
    this.running = false;
    // Interrupts the blocking read; the loop sees running=false and ends.
    this.options.redis.disconnect();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { redis, logger } = this.options;
    while (this.running) {
      try {
        const reply = (await redis.xreadgroup('GROUP', RESULTS_GROUP, this.consumer, 'COUNT', 100, 'BLOCK', this.options.blockMs ?? 5000, 'STREAMS', this.key, '>')) as Array<[string, Array<[string, string[]]>]> | null;
        if (reply) await this.process(reply[0]?.[1] ?? []);
      } catch (err) {
        if (!this.running) return;
        // NOGROUP: the stream was deleted (a Redis without persistence restarted); make it again.
        if (/NOGROUP/.test((err as Error).message)) await this.ensureGroup().catch(() => undefined);
        logger.warn('results stream read failed; retrying', { err });
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private async process(entries: Array<[string, string[]]>): Promise<void> {
    for (const [id, fields] of entries) {
      const event = parseEvent(fields);
      if (event) {
        try {
          await this.options.handle(event);
        } catch (err) {
          this.options.logger.warn('results event not handled', { id, type: event.type, err });
        }
      } else {
        this.options.logger.warn('malformed results event dropped', { id });
      }
      await this.options.commands.xack(this.key, RESULTS_GROUP, id).catch((err: unknown) => this.options.logger.warn('results event not acknowledged; a later pass takes it over', { id, err }));
    }
  }
}

function parseEvent(fields: string[] | null | undefined): ResultEvent | null {
  if (!fields) return null;
  const at = fields.indexOf('event');
  if (at < 0) return null;
  try {
    const parsed = resultEventSchema.safeParse(JSON.parse(fields[at + 1] ?? ''));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
