import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gpuHosts } from '../config/servers.js';
import { startOpsServer, type OpsServer } from '../queue/ops-server.js';
import { createSlackApp, type SlackApp } from './app.js';
import type { BotDeps } from './deps.js';
import { ResultRelay } from './relay.js';
import { ResultPoster } from './results.js';

export interface RunningBot {
  slack: SlackApp;
  /** HTTP mode: where Slack (or a test) POSTs; the same port serves /healthz and /metrics. */
  port: number;
  relay: ResultRelay;
  stop(): Promise<void>;
}

/** Starts the Bolt receiver, the results relay (QueueEvents → Slack) and, in Socket Mode, the ops server. */
export async function startBot(deps: BotDeps): Promise<RunningBot> {
  const slack = createSlackApp(deps);
  let ops: OpsServer | undefined;
  let port: number;
  if (slack.mode === 'http') {
    const server = (await slack.app.start({ port: deps.config.port, host: deps.config.listenHost })) as Server;
    port = (server.address() as AddressInfo).port;
  } else {
    await slack.app.start();
    ops = await startOpsServer({ host: deps.config.listenHost, port: deps.config.port, registry: deps.metrics.registry, health: deps.health });
    port = ops.port;
  }
  const results = new ResultPoster({ store: deps.store, poster: deps.poster, roots: deps.roots, metrics: deps.metrics, logger: deps.logger, now: deps.now, updateIntervalMs: deps.config.updateIntervalMs, ...(deps.config.liveRefreshMs ? { liveRefreshMs: deps.config.liveRefreshMs } : {}) });
  const relay = new ResultRelay({
    hosts: gpuHosts(deps.registry),
    redisUrl: deps.config.redisUrl,
    prefix: deps.config.prefix,
    store: deps.store,
    producer: deps.producer,
    results,
    logger: deps.logger,
    reconcileMs: deps.config.reconcileMs,
  });
  await relay.start();
  deps.logger.info('bot ready', { mode: slack.mode, port, hosts: gpuHosts(deps.registry) });

  return {
    slack,
    port,
    relay,
    async stop() {
      await slack.app.stop();
      await relay.close();
      await deps.roots.drain();
      await ops?.close();
      await deps.producer.close();
      deps.redis.disconnect();
    },
  };
}
