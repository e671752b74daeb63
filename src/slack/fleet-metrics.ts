import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../pipelines/types.js';

export interface FleetSources {
  /** The registry's GPU hosts: the only values the `host` label takes. */
  hosts: readonly string[];
  queueCounts: (host: string) => Promise<Record<string, number>>;
  heartbeats: () => Promise<Map<string, number>>;
  /** Not-yet-resolved incidents by state. */
  incidentStates: () => Promise<Record<string, number>>;
  /** A host is up when its newest heartbeat is at most this old. */
  workerMaxAgeMs: number;
  now: () => number;
  logger: Logger;
}

const QUEUE_STATES = ['waiting', 'active', 'delayed'] as const;

/**
 * Gauges read at scrape time, with bounded labels only: `host` from servers.yaml, `state` from
 * closed lists. A Redis outage leaves them empty for that scrape instead of failing /metrics.
 */
export function registerFleetMetrics(registry: Registry, sources: FleetSources): void {
  const safely = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      sources.logger.warn(`metrics: ${what} not read`, { err });
    }
  };
  new Gauge({
    name: 'triage_queue_jobs',
    help: 'Jobs in each GPU host queue, by state (waiting, active, delayed)',
    labelNames: ['host', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await safely('queue depth', async () => {
        const counts = await Promise.all(sources.hosts.map(async (host) => [host, await sources.queueCounts(host)] as const));
        for (const [host, c] of counts) for (const state of QUEUE_STATES) this.set({ host, state }, c[state] ?? 0);
      });
    },
  });
  const beats = async () => {
    const map = await sources.heartbeats();
    return sources.hosts.map((host) => ({ host, at: map.get(host) }));
  };
  new Gauge({
    name: 'triage_worker_up',
    help: "1 when a worker of the host sent a heartbeat within the bot's TRIAGE_WORKER_MAX_AGE_S, else 0",
    labelNames: ['host'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await safely('worker heartbeats', async () => {
        const now = sources.now();
        for (const { host, at } of await beats()) this.set({ host }, at !== undefined && now - at <= sources.workerMaxAgeMs ? 1 : 0);
      });
    },
  });
  new Gauge({
    name: 'triage_worker_heartbeat_age_seconds',
    help: "Seconds since the host's newest worker heartbeat (absent: never seen)",
    labelNames: ['host'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await safely('worker heartbeats', async () => {
        const now = sources.now();
        for (const { host, at } of await beats()) if (at !== undefined) this.set({ host }, Math.max(0, (now - at) / 1000));
      });
    },
  });
  new Gauge({
    name: 'triage_incidents',
    help: 'Incidents not yet resolved, by state',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await safely('incident states', async () => {
        for (const [state, n] of Object.entries(await sources.incidentStates())) this.set({ state }, n);
      });
    },
  });
}

/** Counts the active incidents' states in one pipelined pass (states outside `known` count as "other"). */
export async function countIncidentStates(
  redis: import('ioredis').Redis,
  keys: { active: string; incident(id: string): string },
  known: readonly string[],
  limit = 20_000,
): Promise<Record<string, number>> {
  const ids = await redis.zrange(keys.active, 0, limit - 1);
  const counts: Record<string, number> = Object.fromEntries(known.map((s) => [s, 0]));
  if (!ids.length) return counts;
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hget(keys.incident(id), 'status');
  for (const [err, status] of (await pipeline.exec()) ?? []) {
    if (err || typeof status !== 'string') continue;
    const state = known.includes(status) ? status : 'other';
    counts[state] = (counts[state] ?? 0) + 1;
  }
  return counts;
}
