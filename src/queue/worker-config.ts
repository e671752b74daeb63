import { z } from 'zod';
import { workerEnvSchema } from '../config/env.js';

/**
 * The worker's env schema: the shared one plus the queue's timing knobs, read once at start.
 * Tests set the timings low (a lock of 2 s, a stalled check every 500 ms) to see a killed
 * worker's job picked up again in seconds instead of minutes.
 */
export const workerProcessEnvSchema = workerEnvSchema.extend({
  TRIAGE_LOCK_MS: z.coerce.number().int().min(500).default(60_000),
  TRIAGE_STALLED_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  TRIAGE_MAX_STALLED: z.coerce.number().int().min(0).max(10).default(1),
  TRIAGE_JOB_TIMEOUT_S: z.coerce.number().positive().default(1800),
  TRIAGE_SHUTDOWN_GRACE_S: z.coerce.number().min(0).default(30),
  /** How often the worker writes its heartbeat (the bot refuses work for a host without a fresh one). */
  TRIAGE_HEARTBEAT_S: z.coerce.number().positive().max(60).default(5),
  /** Interface for /healthz and /metrics. */
  TRIAGE_LISTEN_HOST: z.string().default('0.0.0.0'),
});

export type WorkerProcessEnv = z.infer<typeof workerProcessEnvSchema>;
