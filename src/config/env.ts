import { z } from 'zod';
import type { Registry } from './servers.js';
import { configError } from './zod-errors.js';

/**
 * Process configuration, read once at start from the environment (DESIGN.md "Processes and config").
 * Nothing below src/config reads process.env: entries call loadEnv() and pass the result down.
 * Every required variable says what it is and where to find it (docs/slack-setup.md has the pictures).
 */

/**
 * A required variable whose message says what it is and where to find it. Unset and empty read the
 * same (loadEnv drops empty values). A custom issue rather than zod's invalid_type, whose generic
 * "expected string" says neither.
 */
function required(what: string) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value) return value;
      ctx.addIssue({ code: 'custom', message: `is not set. ${what}` });
      return z.NEVER;
    });
}

const SLACK_SETTINGS = 'https://api.slack.com/apps → your app';

const base = z.object({
  REDIS_URL: z.string().url({ message: 'must be a Redis URL such as redis://127.0.0.1:6379 (redis://[:password@]host:port[/db])' }).default('redis://127.0.0.1:6379'),
  /** Path of servers.yaml (examples/servers.yaml is a commented starting point). */
  TRIAGE_SERVERS: z.string().optional(),
  TRIAGE_DATA_DIR: z.string().default('./incidents'),
  TRIAGE_QUEUE_PREFIX: z.string().default('triage'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
});

export const botEnvSchema = base.extend({
  SLACK_BOT_TOKEN: required(
    `The bot's OAuth token (xoxb-…): ${SLACK_SETTINGS} → OAuth & Permissions → "Bot User OAuth Token" (shown after "Install to Workspace"). See docs/slack-setup.md.`,
  ),
  /** Required in HTTP mode only; see signingSecretUnlessSocketMode. */
  SLACK_SIGNING_SECRET: z.string().optional(),
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-/, { message: `must be an app-level token (xapp-…): ${SLACK_SETTINGS} → Basic Information → App-Level Tokens, with the connections:write scope` })
    .optional(),
  SLACK_API_URL: z.string().url({ message: 'must be the base URL of a Slack-compatible Web API, such as https://slack.com/api/' }).optional(),
  /** Bearer token the Alertmanager webhook (POST /alerts/alertmanager) must send. Unset: the webhook is off. */
  TRIAGE_ALERT_TOKEN: z
    .string()
    .min(16, { message: 'must be at least 16 characters: a random string you choose (openssl rand -hex 32), also set as the webhook credentials in alertmanager.yml (http_config.authorization.credentials)' })
    .optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
});

/**
 * HTTP mode verifies every request with the signing secret; Socket Mode (SLACK_APP_TOKEN set) has no
 * public endpoint and does not need it. Applied after .extend() (zod refuses to extend refined
 * objects); `when` lets it report alongside other missing variables instead of after them.
 */
export function hasSigningSecretOrAppToken(env: { SLACK_APP_TOKEN?: string | undefined; SLACK_SIGNING_SECRET?: string | undefined }): boolean {
  return Boolean(env.SLACK_APP_TOKEN || env.SLACK_SIGNING_SECRET);
}

export const SIGNING_SECRET_ISSUE: { path: PropertyKey[]; message: string; when: (payload: { value: unknown }) => boolean } = {
  path: ['SLACK_SIGNING_SECRET'],
  message: `is not set. HTTP mode needs the app's signing secret: ${SLACK_SETTINGS} → Basic Information → App Credentials → "Signing Secret". Or set SLACK_APP_TOKEN (xapp-…) for Socket Mode, which needs none.`,
  when: (payload) => typeof payload.value === 'object' && payload.value !== null,
};

export const workerEnvSchema = base.extend({
  TRIAGE_HOST: required(
    'The GPU host this worker serves: the `host:` value of its servers in servers.yaml (the worker consumes the BullMQ queue "triage:<host>"). Usually this machine\'s short host name.',
  ),
  TRIAGE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  PORT: z.coerce.number().int().min(0).max(65535).default(9464),
});

/**
 * The `triage` CLI's environment. No Redis and no Slack: the CLI runs pipelines in-process. Server
 * tokens are looked up by the env var NAMES servers.yaml gives (tokenEnv), through Credentials below.
 */
export const cliEnvSchema = z.object({
  /** Path of servers.yaml when --servers is not given. */
  TRIAGE_SERVERS: z.string().optional(),
  /** Where `triage run` creates incident folders when --out is not given (default ./incidents). */
  TRIAGE_DATA_DIR: z.string().optional(),
  /** Bearer token for servers that name no tokenEnv, and for ad-hoc URLs. */
  SGLANG_BEARER_TOKEN: z.string().optional(),
  /** https://no-color.org: present and non-empty turns colour off. */
  NO_COLOR: z.string().optional(),
});

export type BotEnv = z.infer<typeof botEnvSchema>;
export type WorkerEnv = z.infer<typeof workerEnvSchema>;
export type CliEnv = z.infer<typeof cliEnvSchema>;

export function loadEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>, source = 'environment'): z.infer<S> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) throw configError(result.error.issues, source);
  return result.data;
}

/**
 * Tokens for SGLang servers, resolved from one snapshot of the environment taken at the entry. The
 * raw environment stays inside; callers ask for a server's token, never for a variable.
 * Order: an explicit --token, then the env var the server names (tokenEnv), then SGLANG_BEARER_TOKEN.
 */
export interface Credentials {
  token(server: { tokenEnv?: string | undefined }, explicit?: string): string | undefined;
  /** The admin key for ADMIN_OPTIONAL routes (adminTokenEnv); no fallback. */
  adminToken(server: { adminTokenEnv?: string | undefined }): string | undefined;
  /**
   * For code that still takes an env map to resolve token names (PipelineDeps.env today): only the
   * variables the registry names, plus SGLANG_BEARER_TOKEN. Nothing else of the environment.
   */
  envFor(registry: Registry): Record<string, string | undefined>;
}

export function credentialsFrom(env: Readonly<Record<string, string | undefined>>): Credentials {
  const snapshot = new Map(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
  const named = (name: string | undefined) => (name ? snapshot.get(name) : undefined);
  const fallback = snapshot.get('SGLANG_BEARER_TOKEN');
  return {
    token: (server, explicit) => (explicit ? explicit : undefined) ?? named(server.tokenEnv) ?? fallback,
    adminToken: (server) => named(server.adminTokenEnv),
    envFor: (registry) => {
      const names = new Set(['SGLANG_BEARER_TOKEN']);
      for (const s of Object.values(registry.servers)) {
        for (const n of [s.tokenEnv, s.adminTokenEnv, s.replay?.tokenEnv]) if (n) names.add(n);
      }
      return Object.fromEntries([...names].filter((n) => snapshot.has(n)).map((n) => [n, snapshot.get(n)]));
    },
  };
}
