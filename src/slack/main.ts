/** `npm run bot`: the Slack bot. Wiring only: env → config → deps → start; SIGTERM stops it cleanly. */
import { loadEnv } from '../config/env.js';
import { loadRegistry } from '../config/servers.js';
import { describeError } from '../errors.js';
import { createJsonLogger } from '../queue/json-logger.js';
import { botConfigFromEnv, botProcessEnvSchema } from './bot-config.js';
import { startBot } from './bot.js';
import { buildBotDeps } from './deps.js';

try {
  const env = loadEnv(botProcessEnvSchema, process.env);
  const config = botConfigFromEnv(env);
  const logger = createJsonLogger({ level: config.logLevel, base: { proc: 'bot' } });
  const registry = await loadRegistry(env.TRIAGE_SERVERS);
  const bot = await startBot(buildBotDeps(config, registry, { logger }));
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info('bot stopping', { signal });
    bot.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('bot shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (err) {
  process.stderr.write(`bot: ${describeError(err)}\n`);
  process.exit(1);
}
