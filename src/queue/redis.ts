import { Redis, type RedisOptions } from 'ioredis';

/**
 * Connections to Redis. Workers and event listeners block and must wait out a Redis restart
 * (maxRetriesPerRequest: null, as BullMQ requires); the bot's command path fails fast instead,
 * so a slash command during an outage gets an answer rather than hanging.
 */
export function blockingConnection(url: string, name: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectionName: name, retryStrategy: reconnectDelay } satisfies RedisOptions);
}

export function commandConnection(url: string, name: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 2, connectionName: name, retryStrategy: reconnectDelay } satisfies RedisOptions);
}

/** Reconnect quickly at first, then every 2 s, forever: Redis coming back is the normal ending. */
function reconnectDelay(times: number): number {
  return Math.min(50 * 2 ** times, 2000);
}
