import { webApi } from '@slack/bolt';
import type { Redis } from 'ioredis';
import type { Registry } from '../config/servers.js';
import { IncidentStore } from '../incident/store.js';
import type { Logger } from '../pipelines/types.js';
import { TriageProducer } from '../queue/producer.js';
import { commandConnection } from '../queue/redis.js';
import { AccessControl } from './access.js';
import type { SlackAppDeps } from './app.js';
import { slackClientOptions } from './app.js';
import { AuditLog } from './audit.js';
import type { BotConfig } from './bot-config.js';
import { CATALOG, COMMANDS } from './commands.js';
import { IncidentService } from './incident-service.js';
import { createBotMetrics } from './metrics.js';
import { SlackPoster } from './poster.js';
import { RootMessages } from './root-messages.js';

export interface BotDeps extends SlackAppDeps {
  registry: Registry;
  redis: Redis;
  producer: TriageProducer;
  /** Each incident's channel message, redrawn in place. */
  roots: RootMessages;
}

/**
 * Builds everything the bot needs from its config, once. main.ts calls it with the real clock and
 * logger; tests call it the same way with a fake Slack URL and a unique Redis prefix.
 */
export function buildBotDeps(config: BotConfig, registry: Registry, options: { logger: Logger; now?: () => Date; defaultMetrics?: boolean }): BotDeps {
  const { logger } = options;
  const now = options.now ?? (() => new Date());
  const redis = commandConnection(config.redisUrl, 'triage-bot');
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
  const roots = new RootMessages({ store, poster, logger, intervalMs: config.updateIntervalMs });
  const incidents = new IncidentService({ store, producer, poster, roots, metrics, logger, now, dedupeWindowMs: config.dedupeWindowMs });
  return {
    config,
    registry,
    redis,
    producer,
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
