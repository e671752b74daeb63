import { webApi } from '@slack/bolt';
import type { Redis } from 'ioredis';
import { gpuHosts, type Registry } from '../config/servers.js';
import { IncidentStore } from '../incident/store.js';
import { INCIDENT_STATUSES } from '../incident/types.js';
import { readHeartbeats } from '../queue/heartbeat.js';
import type { Logger } from '../pipelines/types.js';
import { TriageProducer } from '../queue/producer.js';
import { commandConnection } from '../queue/redis.js';
import { AccessControl } from './access.js';
import { AfterAck } from './after-ack.js';
import { AlertIncidents } from './alerts/alert-incidents.js';
import type { SlackAppDeps } from './app.js';
import { slackClientOptions } from './app.js';
import { AuditLog } from './audit.js';
import type { BotConfig } from './bot-config.js';
import { CATALOG, COMMANDS } from './commands.js';
import { IncidentService } from './incident-service.js';
import { countIncidentStates, registerFleetMetrics } from './fleet-metrics.js';
import { createBotMetrics } from './metrics.js';
import { SlackPoster } from './poster.js';
import { Preflight } from './preflight.js';
import { RootMessages } from './root-messages.js';

export interface BotDeps extends SlackAppDeps {
  registry: Registry;
  redis: Redis;
  producer: TriageProducer;
  /** Names this bot's Redis connections (`<name>`, `<name>-results`) in CLIENT LIST. */
  connectionName: string;
  /** Each incident's channel message, redrawn in place. */
  roots: RootMessages;
}

/**
 * Builds everything the bot needs from its config, once. main.ts calls it with the real clock and
 * logger; tests call it the same way with a fake Slack URL and a unique Redis prefix.
 */
export function buildBotDeps(config: BotConfig, registry: Registry, options: { logger: Logger; now?: () => Date; defaultMetrics?: boolean; connectionName?: string }): BotDeps {
  const { logger } = options;
  const now = options.now ?? (() => new Date());
  const connectionName = options.connectionName ?? 'triage-bot';
  const redis = commandConnection(config.redisUrl, connectionName);
  redis.on('error', (err) => logger.warn('redis', { err }));
  const metrics = createBotMetrics({ defaults: options.defaultMetrics ?? true });
  const slack = new webApi.WebClient(config.botToken, slackClientOptions(config, logger));
  const poster = new SlackPoster(slack, metrics, logger);
  const store = new IncidentStore({ redis, prefix: config.prefix, now });
  const producer = new TriageProducer({
    connection: redis,
    prefix: config.prefix,
    attempts: config.jobAttempts,
    backoffMs: config.jobBackoffMs,
    onError: (err) => logger.warn('queue connection', { err }),
  });
  const access = new AccessControl({ access: registry.access, groupMembers: (g) => poster.usergroupMembers(g), cacheMs: config.groupCacheMs, now: () => now().getTime() });
  const audit = new AuditLog({ redis, key: store.keys.audit, logger });
  const heartbeats = () => readHeartbeats(redis, config.prefix);
  const preflight = new Preflight({
    isMember: (channel) => poster.isMember(channel),
    heartbeats,
    workerMaxAgeMs: config.workerMaxAgeMs,
    channelCacheMs: 60_000,
    heartbeatCacheMs: 2000,
    now: () => now().getTime(),
    logger,
  });
  registerFleetMetrics(metrics.registry, {
    hosts: gpuHosts(registry),
    queueCounts: (host) => producer.queue(host).getJobCounts('waiting', 'active', 'delayed'),
    heartbeats,
    incidentStates: () => countIncidentStates(redis, store.keys, INCIDENT_STATUSES),
    // With the check off, "up" still means a heartbeat within 30 s.
    workerMaxAgeMs: config.workerMaxAgeMs || 30_000,
    now: () => now().getTime(),
    logger,
  });
  const roots = new RootMessages({ store, poster, logger, intervalMs: config.updateIntervalMs });
  const incidents = new IncidentService({ store, producer, poster, roots, metrics, logger, now, dedupeWindowMs: config.dedupeWindowMs });
  const alerts = new AlertIncidents({ registry, config: registry.alerts, redis, prefix: config.prefix, store, incidents, poster, preflight, metrics, logger, now });
  const afterAck = new AfterAck({ concurrency: 4, onError: (err) => logger.error('work after an ack failed', { err }) });
  return {
    config,
    afterAck,
    alerts,
    registry,
    redis,
    connectionName,
    producer,
    preflight,
    roots,
    store,
    incidents,
    access,
    audit,
    metrics,
    poster,
    logger,
    now,
    commands: COMMANDS,
    catalog: CATALOG,
    health: () => ({ ok: redis.status === 'ready', checks: { redis: redis.status } }),
  };
}
