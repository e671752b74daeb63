import { z } from 'zod';
import { configError } from './zod-errors.js';

/**
 * Process configuration, read once at start from the environment (DESIGN.md "Processes and config").
 * Nothing below src/config reads process.env: entries call loadEnv() and pass the result down.
 */
const base = z.object({
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  TRIAGE_SERVERS: z.string().optional(),
  TRIAGE_DATA_DIR: z.string().default('./incidents'),
  TRIAGE_QUEUE_PREFIX: z.string().default('triage'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
});

export const botEnvSchema = base.extend({
  SLACK_BOT_TOKEN: z.string().min(1, { message: 'required: the bot token (xoxb-…)' }),
  SLACK_SIGNING_SECRET: z.string().min(1, { message: 'required: the app signing secret' }),
  SLACK_APP_TOKEN: z.string().optional(),
  SLACK_API_URL: z.string().url().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
});

export const workerEnvSchema = base.extend({
  TRIAGE_HOST: z.string().min(1, { message: 'required: the GPU host this worker serves (as in servers.yaml)' }),
  TRIAGE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  PORT: z.coerce.number().int().min(0).max(65535).default(9464),
});

export type BotEnv = z.infer<typeof botEnvSchema>;
export type WorkerEnv = z.infer<typeof workerEnvSchema>;

export function loadEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>, source = 'environment'): z.infer<S> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) throw configError(result.error.issues, source);
  return result.data;
}
