import { detectInvocation } from '../config/invocation.js';
import { loadRegistry } from '../config/servers.js';
import { loadEnv } from '../config/env.js';
import { IncidentStore } from '../incident/store.js';
import { createJsonLogger } from './json-logger.js';
import type { PipelineRunner } from './jobs.js';
import { createWorkerMetrics } from './metrics.js';
import { queueLabel } from './names.js';
import { startOpsServer } from './ops-server.js';
import { blockingConnection } from './redis.js';
import { workerProcessEnvSchema } from './worker-config.js';
import { createTriageWorker } from './worker.js';

export interface RunningWorker {
  opsPort: number;
  stop(): Promise<void>;
}

/**
 * Everything `npm run worker` starts, given the environment and the pipeline runner: config read
 * once through zod, the registry, Redis, the BullMQ worker for this host, /healthz and /metrics.
 */
export async function startWorkerProcess(env: Record<string, string | undefined>, runPipeline: PipelineRunner): Promise<RunningWorker> {
  const config = loadEnv(workerProcessEnvSchema, env);
  const logger = createJsonLogger({ level: config.LOG_LEVEL, base: { proc: 'worker', host: config.TRIAGE_HOST } });
  const registry = await loadRegistry(config.TRIAGE_SERVERS);
  const served = Object.entries(registry.servers).filter(([, s]) => s.host === config.TRIAGE_HOST).map(([name]) => name);
  if (!served.length) logger.warn('no server in the registry names this host; the queue will only see bad jobs', { host: config.TRIAGE_HOST });

  const redis = blockingConnection(config.REDIS_URL, `triage-worker-${config.TRIAGE_HOST}`);
  redis.on('error', (err) => logger.warn('redis', { err }));
  const now = () => new Date();
  const store = new IncidentStore({ redis, prefix: config.TRIAGE_QUEUE_PREFIX, now });
  const metrics = createWorkerMetrics({ host: config.TRIAGE_HOST });
  const triage = createTriageWorker({
    host: config.TRIAGE_HOST,
    registry,
    dataDir: config.TRIAGE_DATA_DIR,
    runPipeline,
    pipelineDeps: { registry, env, now, logger, invocation: detectInvocation(env, process.cwd(), config.TRIAGE_SERVERS) },
    store,
    metrics,
    logger,
    jobTimeoutMs: config.TRIAGE_JOB_TIMEOUT_S * 1000,
    connection: redis,
    prefix: config.TRIAGE_QUEUE_PREFIX,
    concurrency: config.TRIAGE_CONCURRENCY,
    lockDurationMs: config.TRIAGE_LOCK_MS,
    stalledIntervalMs: config.TRIAGE_STALLED_INTERVAL_MS,
    maxStalledCount: config.TRIAGE_MAX_STALLED,
  });
  await triage.worker.waitUntilReady();
  const ops = await startOpsServer({
    host: config.TRIAGE_LISTEN_HOST,
    port: config.PORT,
    registry: metrics.registry,
    health: () => ({ ok: triage.worker.isRunning() && redis.status === 'ready', checks: { worker: triage.worker.isRunning(), redis: redis.status } }),
  });
  logger.info('worker ready', { queue: queueLabel(config.TRIAGE_QUEUE_PREFIX, config.TRIAGE_HOST), servers: served, opsPort: ops.port, pid: process.pid });

  return {
    opsPort: ops.port,
    async stop() {
      logger.info('worker stopping');
      await triage.close(config.TRIAGE_SHUTDOWN_GRACE_S * 1000);
      await ops.close();
      redis.disconnect();
      logger.info('worker stopped');
    },
  };
}
