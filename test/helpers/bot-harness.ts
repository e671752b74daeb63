/**
 * The real bot (Bolt HTTP receiver on 127.0.0.1, real Redis, results relay) against the fake
 * Slack, optionally with an in-process worker running a real pipeline runner. Each harness has
 * its own Redis key prefix and incident folder, removed on stop.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseRegistry, type Registry } from '../../src/config/servers.js';
import type { Logger } from '../../src/pipelines/types.js';
import { createJsonLogger, silentLogger } from '../../src/queue/json-logger.js';
import type { PipelineRunner } from '../../src/queue/jobs.js';
import { createWorkerMetrics } from '../../src/queue/metrics.js';
import { blockingConnection } from '../../src/queue/redis.js';
import { createTriageWorker, type TriageWorker } from '../../src/queue/worker.js';
import { IncidentStore } from '../../src/incident/store.js';
import type { BotConfig } from '../../src/slack/bot-config.js';
import { startBot, type RunningBot } from '../../src/slack/bot.js';
import { buildBotDeps, type BotDeps } from '../../src/slack/deps.js';
import { FakeSlack, type FakeSlackOptions } from './fake-slack.js';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from './redis-test.js';
import { SIGNING_SECRET } from './slack-requests.js';

export const BOT_TOKEN = 'xoxb-test-bot-token';
export const APP_TOKEN = 'xapp-test-app-token';

export function testLogger(name: string): Logger {
  return process.env.TRIAGE_TEST_LOGS ? createJsonLogger({ level: 'debug', base: { proc: name } }) : silentLogger;
}

export function testBotConfig(overrides: Partial<BotConfig> & Pick<BotConfig, 'prefix'>): BotConfig {
  return {
    botToken: BOT_TOKEN,
    signingSecret: SIGNING_SECRET,
    listenHost: '127.0.0.1',
    port: 0,
    redisUrl: REDIS_URL,
    logLevel: 'debug',
    dedupeWindowMs: 600_000,
    jobAttempts: 2,
    jobBackoffMs: 100,
    updateIntervalMs: 150,
    slackRetry: { retries: 3, minTimeoutMs: 50, maxTimeoutMs: 200 },
    slackTimeoutMs: 5000,
    groupCacheMs: 60_000,
    reconcileMs: 60_000,
    pickupWindowMs: 600_000,
    // Off unless a test turns it on: most tests queue jobs for hosts with no worker on purpose.
    workerMaxAgeMs: 0,
    ...overrides,
  };
}

export function registryYaml(servers: Record<string, { url: string; host: string }>, access = ''): string {
  const lines = ['servers:'];
  for (const [name, s] of Object.entries(servers)) lines.push(`  ${name}:`, `    url: ${s.url}`, `    host: ${s.host}`);
  return `${lines.join('\n')}\n${access}`;
}

export interface WorkerSpec {
  host: string;
  runPipeline: PipelineRunner;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  jobTimeoutMs?: number;
  concurrency?: number;
}

export interface Harness {
  fake: FakeSlack;
  bot: RunningBot;
  deps: BotDeps;
  botUrl: string;
  prefix: string;
  redisUrl: string;
  registry: Registry;
  dataDir: string;
  workers: TriageWorker[];
  /** A second view of the incident store (what a worker sees). */
  store: IncidentStore;
  startWorker(spec: WorkerSpec): TriageWorker;
  stop(): Promise<void>;
}

export async function startHarness(options: {
  registry: Registry | string;
  config?: Partial<BotConfig>;
  fake?: FakeSlackOptions;
  redisUrl?: string;
  workers?: WorkerSpec[];
  /** Socket Mode: the fake serves apps.connections.open and a WebSocket endpoint. */
  socketMode?: boolean;
}): Promise<Harness> {
  const prefix = uniquePrefix();
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const registry = typeof options.registry === 'string' ? parseRegistry(options.registry, 'test servers.yaml') : options.registry;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'triage-incidents-'));
  const fake = await new FakeSlack({ botToken: BOT_TOKEN, appToken: APP_TOKEN, ...options.fake }).start();
  if (options.socketMode) await fake.startSocketMode();
  const config = testBotConfig({ prefix, redisUrl, slackApiUrl: fake.apiUrl, ...(options.socketMode ? { appToken: APP_TOKEN } : {}), ...options.config });
  // Named per harness, so a test can count this bot's Redis connections in CLIENT LIST.
  const deps = buildBotDeps(config, registry, { logger: testLogger('bot'), defaultMetrics: false, connectionName: `bot-${prefix}` });
  const workerRedis = blockingConnection(redisUrl, 'test-worker');
  workerRedis.on('error', () => undefined);
  const store = new IncidentStore({ redis: workerRedis, prefix, now: () => new Date() });
  const workers: TriageWorker[] = [];
  const startWorker = (spec: WorkerSpec) => {
    const logger = testLogger(`worker-${spec.host}`);
    const worker = createTriageWorker({
      host: spec.host,
      registry,
      dataDir,
      runPipeline: spec.runPipeline,
      pipelineDeps: { registry, env: {}, now: () => new Date(), logger },
      store,
      metrics: createWorkerMetrics({ host: spec.host, defaults: false }),
      logger,
      jobTimeoutMs: spec.jobTimeoutMs ?? 60_000,
      connection: workerRedis,
      prefix,
      concurrency: spec.concurrency ?? 2,
      lockDurationMs: spec.lockDurationMs ?? 30_000,
      stalledIntervalMs: spec.stalledIntervalMs ?? 30_000,
      maxStalledCount: 1,
    });
    workers.push(worker);
    return worker;
  };
  for (const spec of options.workers ?? []) startWorker(spec);
  const bot = await startBot(deps);
  return {
    fake,
    bot,
    deps,
    botUrl: `http://127.0.0.1:${bot.port}`,
    prefix,
    redisUrl,
    registry,
    dataDir,
    workers,
    store,
    startWorker,
    async stop() {
      await Promise.all(workers.map((w) => w.close(2000)));
      await bot.stop();
      workerRedis.disconnect();
      await fake.close();
      await cleanupPrefix(prefix, redisUrl).catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
