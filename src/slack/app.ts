import { App, HTTPReceiver, SocketModeReceiver, type webApi } from '@slack/bolt';
import type { Logger } from '../pipelines/types.js';
import { opsRequestHandler, type HealthReport } from '../queue/ops-server.js';
import { ACTION_IDS, registerActions } from './actions/index.js';
import { registerAppHome } from './app-home.js';
import type { BotConfig } from './bot-config.js';
import { boltLogger } from './bolt-logger.js';
import { registerTriageCommand, type DispatchDeps } from './dispatcher.js';
import { guardReceiver } from './request-guard.js';
import { registerResolveModal } from './resolve-modal.js';

export interface SlackAppDeps extends DispatchDeps {
  config: BotConfig;
  logger: Logger;
  health: () => HealthReport;
}

export interface SlackApp {
  app: App;
  mode: 'http' | 'socket';
  receiver: HTTPReceiver | SocketModeReceiver;
}

/** The WebClient settings every Slack client of the bot shares: API base, retries, timeout. */
export function slackClientOptions(config: BotConfig, logger: Logger): webApi.WebClientOptions {
  return {
    ...(config.slackApiUrl ? { slackApiUrl: config.slackApiUrl } : {}),
    // 429s wait Retry-After inside the client; 5xx and network errors back off exponentially.
    retryConfig: { retries: config.slackRetry.retries, factor: 2, minTimeout: config.slackRetry.minTimeoutMs, maxTimeout: config.slackRetry.maxTimeoutMs, randomize: true },
    timeout: config.slackTimeoutMs,
    logger: boltLogger(logger, 'web-api'),
  };
}

/**
 * The Bolt app with its receiver chosen by config: Socket Mode when an app token is set, else the
 * HTTP receiver (request signatures checked by Bolt; /healthz and /metrics as custom routes).
 * Listeners ack first and work after, so Slack's 3 s limit holds whatever Redis or Slack do.
 */
export function createSlackApp(deps: SlackAppDeps): SlackApp {
  const { config } = deps;
  const logger = boltLogger(deps.logger);
  const clientOptions = slackClientOptions(config, deps.logger);
  const ops = opsRequestHandler(deps.metrics.registry, deps.health);
  const receiver = config.appToken
    ? new SocketModeReceiver({ appToken: config.appToken, logger, installerOptions: { clientOptions } })
    : new HTTPReceiver({
        signingSecret: config.signingSecret,
        endpoints: ['/slack/events'],
        logger,
        customRoutes: [
          { path: '/healthz', method: 'GET', handler: ops },
          { path: '/metrics', method: 'GET', handler: ops },
        ],
      });
  if (receiver instanceof HTTPReceiver) guardReceiver(receiver, { signingSecret: config.signingSecret, endpoints: ['/slack/events'], actionIds: ACTION_IDS });
  // No conversation store: nothing here reads Bolt's per-conversation state, and it costs every request.
  const app = new App({ token: config.botToken, receiver, logger, clientOptions, convoStore: false });
  registerTriageCommand(app, deps);
  registerActions(app, deps);
  registerResolveModal(app, deps);
  registerAppHome(app, deps);
  app.error(async (err) => {
    deps.logger.error('unhandled Bolt error', { err });
  });
  return { app, receiver, mode: config.appToken ? 'socket' : 'http' };
}
