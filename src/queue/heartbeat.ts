import type { Redis } from 'ioredis';
import type { Logger } from '../pipelines/types.js';

/**
 * Worker liveness. Each worker writes "host → now (ms)" into one hash (`<prefix>:@heartbeats`)
 * every intervalMs; the bot reads the whole hash in one round trip to refuse work for a host no
 * worker serves, and to export liveness per host. Any worker of a host keeps the host alive.
 */
export function heartbeatKey(prefix: string): string {
  return `${prefix}:@heartbeats`;
}

export interface Heartbeat {
  stop(): Promise<void>;
}

export function startHeartbeat(options: { redis: Redis; prefix: string; host: string; intervalMs: number; logger: Logger; now?: () => number }): Heartbeat {
  const now = options.now ?? (() => Date.now());
  const beat = () =>
    options.redis.hset(heartbeatKey(options.prefix), options.host, String(now())).then(
      () => undefined,
      (err: unknown) => options.logger.warn('heartbeat not written', { err }),
    );
  let last = beat();
  const timer = setInterval(() => {
    last = beat();
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await last;
    },
  };
}

/** When each host's newest heartbeat was written (ms since the epoch). */
export async function readHeartbeats(redis: Redis, prefix: string): Promise<Map<string, number>> {
  const raw = await redis.hgetall(heartbeatKey(prefix));
  const out = new Map<string, number>();
  for (const [host, value] of Object.entries(raw)) {
    const at = Number(value);
    if (Number.isFinite(at)) out.set(host, at);
  }
  return out;
}
