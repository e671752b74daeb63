/** One zod schema per process, and messages that say what each variable is and where to find it. */
import { describe, expect, it } from 'vitest';
import { botEnvSchema, cliEnvSchema, credentialsFrom, loadEnv, workerEnvSchema } from '../../src/config/env.js';
import { parseRegistry } from '../../src/config/servers.js';
import { isTriageError } from '../../src/errors.js';
import { botConfigFromEnv, botProcessEnvSchema } from '../../src/slack/bot-config.js';
import { workerProcessEnvSchema } from '../../src/queue/worker-config.js';

function configMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isTriageError(err, 'E_CONFIG')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a config error');
}

describe('bot environment', () => {
  it('a missing bot token says what it is and where Slack shows it', () => {
    const msg = configMessage(() => loadEnv(botProcessEnvSchema, { SLACK_SIGNING_SECRET: 's' }));
    expect(msg).toMatch(/SLACK_BOT_TOKEN: is not set\. The bot's OAuth token \(xoxb-…\).*OAuth & Permissions.*Bot User OAuth Token/);
    expect(msg).toContain('docs/slack-setup.md');
  });

  it('HTTP mode needs the signing secret, and says where it is; Socket Mode does not', () => {
    const msg = configMessage(() => loadEnv(botProcessEnvSchema, { SLACK_BOT_TOKEN: 'xoxb-1' }));
    expect(msg).toMatch(/SLACK_SIGNING_SECRET: is not set\..*Basic Information → App Credentials → "Signing Secret".*SLACK_APP_TOKEN/);
    const socket = loadEnv(botProcessEnvSchema, { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1-A-2-abc' });
    const config = botConfigFromEnv(socket);
    expect(config.appToken).toBe('xapp-1-A-2-abc');
    expect(config.signingSecret).toBe('');
  });

  it('an empty environment names every missing variable at once, not one per restart', () => {
    const msg = configMessage(() => loadEnv(botProcessEnvSchema, {}));
    expect(msg).toMatch(/SLACK_BOT_TOKEN: is not set/);
    expect(msg).toMatch(/SLACK_SIGNING_SECRET: is not set/);
  });

  it('an app token that is not xapp-… is refused with where to make one', () => {
    const msg = configMessage(() => loadEnv(botProcessEnvSchema, { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xoxb-wrong' }));
    expect(msg).toMatch(/SLACK_APP_TOKEN: must be an app-level token \(xapp-…\).*App-Level Tokens.*connections:write/);
  });

  it('TRIAGE_ALERT_TOKEN is optional, must be long, and reaches the bot config', () => {
    const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' };
    expect(botConfigFromEnv(loadEnv(botProcessEnvSchema, base)).alertToken).toBeUndefined();
    expect(botConfigFromEnv(loadEnv(botProcessEnvSchema, { ...base, TRIAGE_ALERT_TOKEN: 'a'.repeat(32) })).alertToken).toBe('a'.repeat(32));
    expect(configMessage(() => loadEnv(botProcessEnvSchema, { ...base, TRIAGE_ALERT_TOKEN: 'short' }))).toMatch(/TRIAGE_ALERT_TOKEN: must be at least 16 characters.*alertmanager\.yml/);
    expect(botEnvSchema.shape.TRIAGE_ALERT_TOKEN).toBeDefined();
  });
});

describe('worker environment', () => {
  it('a missing TRIAGE_HOST says it is the host: of servers.yaml and names the queue', () => {
    const msg = configMessage(() => loadEnv(workerProcessEnvSchema, {}));
    expect(msg).toMatch(/TRIAGE_HOST: is not set\. The GPU host this worker serves: the `host:` value .*servers\.yaml.*"triage:<host>"/);
    expect(loadEnv(workerEnvSchema, { TRIAGE_HOST: 'gpu-1' }).TRIAGE_HOST).toBe('gpu-1');
  });

  it('a bad REDIS_URL shows the shape of a good one', () => {
    expect(configMessage(() => loadEnv(workerProcessEnvSchema, { TRIAGE_HOST: 'g', REDIS_URL: 'localhost' }))).toMatch(/REDIS_URL: must be a Redis URL such as redis:\/\/127\.0\.0\.1:6379/);
  });
});

describe('CLI environment and credentials', () => {
  it('reads only what the CLI uses', () => {
    const env = loadEnv(cliEnvSchema, { TRIAGE_SERVERS: '/etc/s.yaml', TRIAGE_DATA_DIR: '/d', SGLANG_BEARER_TOKEN: 't', HOME: '/root', SLACK_BOT_TOKEN: 'xoxb-x' });
    expect(env).toEqual({ TRIAGE_SERVERS: '/etc/s.yaml', TRIAGE_DATA_DIR: '/d', SGLANG_BEARER_TOKEN: 't' });
  });

  it('token order: --token, then the server\'s tokenEnv, then SGLANG_BEARER_TOKEN; empty values count as unset', () => {
    const c = credentialsFrom({ PROD_A_TOKEN: 'tok-a', PROD_A_ADMIN: 'adm', SGLANG_BEARER_TOKEN: 'fallback', EMPTY: '' });
    expect(c.token({ tokenEnv: 'PROD_A_TOKEN' }, 'flag')).toBe('flag');
    expect(c.token({ tokenEnv: 'PROD_A_TOKEN' })).toBe('tok-a');
    expect(c.token({ tokenEnv: 'EMPTY' })).toBe('fallback');
    expect(c.token({})).toBe('fallback');
    expect(c.adminToken({ adminTokenEnv: 'PROD_A_ADMIN' })).toBe('adm');
    expect(c.adminToken({})).toBeUndefined();
  });

  it('reads the environment once: a later change does not leak in', () => {
    const raw: Record<string, string> = { PROD_A_TOKEN: 'before' };
    const c = credentialsFrom(raw);
    raw.PROD_A_TOKEN = 'after';
    expect(c.token({ tokenEnv: 'PROD_A_TOKEN' })).toBe('before');
  });

  it('what a pipeline may see: only the variables the registry names, plus SGLANG_BEARER_TOKEN', () => {
    const registry = parseRegistry(
      'servers:\n  prod-a:\n    url: http://10.0.0.5:30000\n    host: gpu-1\n    tokenEnv: PROD_A_TOKEN\n    adminTokenEnv: PROD_A_ADMIN\n    replay:\n      url: http://127.0.0.1:31000\n      tokenEnv: REPLAY_TOKEN\n',
      'servers.yaml',
    );
    const c = credentialsFrom({ PROD_A_TOKEN: 'a', PROD_A_ADMIN: 'b', REPLAY_TOKEN: 'c', SGLANG_BEARER_TOKEN: 'd', HOME: '/root', AWS_SECRET_ACCESS_KEY: 'nope', SLACK_BOT_TOKEN: 'xoxb' });
    expect(c.envFor(registry)).toEqual({ PROD_A_TOKEN: 'a', PROD_A_ADMIN: 'b', REPLAY_TOKEN: 'c', SGLANG_BEARER_TOKEN: 'd' });
  });
});
