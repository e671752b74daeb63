import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * Connections to Redis. Workers and event listeners block and must wait out a Redis restart
 * (maxRetriesPerRequest: null, as BullMQ requires); the bot's command path fails fast instead,
 * so a slash command during an outage gets an answer rather than hanging.
 */
export function blockingConnection(url: string, name: string): Redis {
  return new Redis(url, { ...baseOptions(name), maxRetriesPerRequest: null });
}

export function commandConnection(url: string, name: string): Redis {
  return new Redis(url, { ...baseOptions(name), maxRetriesPerRequest: 2 });
}

/** Options (not a client) for BullMQ classes that should own, and close, their own connection. */
export function blockingOptions(url: string, name: string): ConnectionOptions {
  const u = new URL(url);
  const db = Number(u.pathname.replace(/^\//, '') || '0');
  return {
    connectionName: name,
    retryStrategy: reconnectDelay,
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(Number.isInteger(db) ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

function baseOptions(name: string): RedisOptions {
  return { connectionName: name, retryStrategy: reconnectDelay };
}

/** Reconnect quickly at first, then every 2 s, forever: Redis coming back is the normal ending. */
function reconnectDelay(times: number): number {
  return Math.min(50 * 2 ** times, 2000);
}

/** ioredis's ways of saying "Redis is not there right now": a retry later may well work. */
export function isRedisUnavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; message?: string } | null;
  if (!e) return false;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'NR_CLOSED'].includes(e.code)) return true;
  return /Connection is closed|Stream isn't writeable|connect ECONNREFUSED/.test(e.message ?? '');
}
