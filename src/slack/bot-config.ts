import { z } from 'zod';
import { botEnvSchema, hasSigningSecretOrAppToken, SIGNING_SECRET_ISSUE } from '../config/env.js';
import type { LogLevel } from '../queue/json-logger.js';

/** The bot's env schema: the shared one plus queue and Slack tuning, read once at start. */
export const botProcessEnvSchema = botEnvSchema.extend({
  /** A second `/triage capture <server>` inside this window joins the open incident. */
  TRIAGE_DEDUPE_WINDOW_S: z.coerce.number().int().min(0).default(600),
  TRIAGE_JOB_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  TRIAGE_JOB_BACKOFF_MS: z.coerce.number().int().min(0).default(5000),
  /** At most one chat.update per status message per interval. */
  SLACK_UPDATE_INTERVAL_MS: z.coerce.number().int().min(100).default(1000),
  SLACK_RETRIES: z.coerce.number().int().min(0).max(20).default(5),
  SLACK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** How long a user group's member list is trusted before usergroups.users.list is asked again. */
  TRIAGE_GROUP_CACHE_S: z.coerce.number().int().min(0).default(300),
  /** How often missed results (a bot restart, a Slack outage) are looked for and posted. */
  TRIAGE_RECONCILE_S: z.coerce.number().int().min(1).default(60),
  TRIAGE_LISTEN_HOST: z.string().default('0.0.0.0'),
}).refine(hasSigningSecretOrAppToken, SIGNING_SECRET_ISSUE);
export type BotProcessEnv = z.infer<typeof botProcessEnvSchema>;

export interface BotConfig {
  botToken: string;
  /** HTTP mode's request signature key; '' in Socket Mode, which has no public endpoint (the schema requires it otherwise). */
  signingSecret: string;
  /** Set: Socket Mode. Unset: the HTTP receiver on listenHost:port. */
  appToken?: string;
  /** Bearer token the Alertmanager webhook must send (TRIAGE_ALERT_TOKEN); unset: the webhook is off. */
  alertToken?: string;
  /** Must end with /api/ (web-api joins method names onto it). */
  slackApiUrl?: string;
  listenHost: string;
  port: number;
  redisUrl: string;
  prefix: string;
  logLevel: LogLevel;
  dedupeWindowMs: number;
  jobAttempts: number;
  jobBackoffMs: number;
  updateIntervalMs: number;
  /** A running step's status message is redrawn at least this often, even when its pipeline is silent (default 10 s). */
  liveRefreshMs?: number;
  slackRetry: { retries: number; minTimeoutMs: number; maxTimeoutMs: number };
  slackTimeoutMs: number;
  groupCacheMs: number;
  reconcileMs: number;
}

export function botConfigFromEnv(env: BotProcessEnv): BotConfig {
  return {
    botToken: env.SLACK_BOT_TOKEN,
    signingSecret: env.SLACK_SIGNING_SECRET ?? '',
    ...(env.SLACK_APP_TOKEN ? { appToken: env.SLACK_APP_TOKEN } : {}),
    ...(env.TRIAGE_ALERT_TOKEN ? { alertToken: env.TRIAGE_ALERT_TOKEN } : {}),
    ...(env.SLACK_API_URL ? { slackApiUrl: withApiSlash(env.SLACK_API_URL) } : {}),
    listenHost: env.TRIAGE_LISTEN_HOST,
    port: env.PORT,
    redisUrl: env.REDIS_URL,
    prefix: env.TRIAGE_QUEUE_PREFIX,
    logLevel: env.LOG_LEVEL,
    dedupeWindowMs: env.TRIAGE_DEDUPE_WINDOW_S * 1000,
    jobAttempts: env.TRIAGE_JOB_ATTEMPTS,
    jobBackoffMs: env.TRIAGE_JOB_BACKOFF_MS,
    updateIntervalMs: env.SLACK_UPDATE_INTERVAL_MS,
    slackRetry: { retries: env.SLACK_RETRIES, minTimeoutMs: 1000, maxTimeoutMs: 30_000 },
    slackTimeoutMs: env.SLACK_TIMEOUT_MS,
    groupCacheMs: env.TRIAGE_GROUP_CACHE_S * 1000,
    reconcileMs: env.TRIAGE_RECONCILE_S * 1000,
  };
}

/** web-api appends the method name to slackApiUrl, so it must end in a slash. */
export function withApiSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
