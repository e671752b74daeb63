import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { parseRegistry } from '../../src/config/servers.js';
import { botConfigFromEnv, botProcessEnvSchema } from '../../src/slack/bot-config.js';

const SERVERS = 'servers:\n  prod-a:\n    url: http://127.0.0.1:9\n    host: gpu-1\n';

describe('alert receiver configuration', () => {
  it('servers.yaml `alerts`: a channel id and a label name, serverLabel defaulting to server', () => {
    expect(parseRegistry(`${SERVERS}alerts:\n  channel: C0123456789\n`, 'servers.yaml').alerts).toEqual({ channel: 'C0123456789', serverLabel: 'server' });
    expect(parseRegistry(SERVERS, 'servers.yaml').alerts).toBeUndefined();
    expect(() => parseRegistry(`${SERVERS}alerts:\n  channel: '#ops'\n`, 'servers.yaml')).toThrow(/alerts\.channel/);
    expect(() => parseRegistry(`${SERVERS}alerts:\n  channel: C0123456789\n  serverLabel: 'server name'\n`, 'servers.yaml')).toThrow(/alerts\.serverLabel/);
    expect(() => parseRegistry(`${SERVERS}alerts:\n  channel: C0123456789\n  url: http://x\n`, 'servers.yaml')).toThrow(/alerts/);
  });

  it('TRIAGE_ALERT_TOKEN is optional, and a short one is refused with what it is for', () => {
    const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' };
    expect(botConfigFromEnv(loadEnv(botProcessEnvSchema, base)).alertToken).toBeUndefined();
    expect(botConfigFromEnv(loadEnv(botProcessEnvSchema, { ...base, TRIAGE_ALERT_TOKEN: 'a'.repeat(32) })).alertToken).toBe('a'.repeat(32));
    expect(() => loadEnv(botProcessEnvSchema, { ...base, TRIAGE_ALERT_TOKEN: 'short' })).toThrow(/TRIAGE_ALERT_TOKEN.*alertmanager/is);
  });
});
