/**
 * slack/manifest.yml (HTTP mode) and slack/manifest.socket.yml (Socket Mode) against the bot itself:
 * the slash command is the one the bot answers on /slack/events, the usage hint names exactly the
 * registered subcommands, and the scopes are exactly those of the Web API methods src/slack calls.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/slack/commands.js';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';
import { postSlashCommand } from '../helpers/slack-requests.js';
import { REPO_ROOT } from '../helpers/tmp.js';

const httpsUrl = z.string().url().refine((u) => u.startsWith('https://'), 'Slack only calls https URLs');

const manifestSchema = z.object({
  display_information: z.object({ name: z.string().min(1).max(35), description: z.string().max(140), long_description: z.string().min(175).max(4000).optional() }),
  features: z.object({
    bot_user: z.object({ display_name: z.string().min(1).max(80), always_online: z.boolean() }),
    slash_commands: z
      .array(z.strictObject({ command: z.string().regex(/^\/[a-z0-9_-]+$/), url: httpsUrl.optional(), description: z.string().min(1).max(2000), usage_hint: z.string().max(1000), should_escape: z.boolean() }))
      .length(1),
  }),
  oauth_config: z.object({ scopes: z.object({ bot: z.array(z.string()).min(1) }) }),
  settings: z.object({
    interactivity: z.strictObject({ is_enabled: z.literal(true), request_url: httpsUrl.optional() }),
    event_subscriptions: z.strictObject({ request_url: httpsUrl.optional(), bot_events: z.array(z.string()).optional() }).optional(),
    org_deploy_enabled: z.boolean(),
    socket_mode_enabled: z.boolean(),
    token_rotation_enabled: z.boolean(),
  }),
});
type Manifest = z.infer<typeof manifestSchema>;

function load(name: string): Manifest {
  return manifestSchema.parse(parse(readFileSync(path.join(REPO_ROOT, 'slack', name), 'utf8')));
}

const http = load('manifest.yml');
const socket = load('manifest.socket.yml');

/**
 * The bot scope each Web API method needs (https://api.slack.com/methods/<method>). A method the
 * bot starts calling without a row here fails the test: add its scope to both manifests and here.
 */
const METHOD_SCOPES: Record<string, readonly string[]> = {
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'chat.getPermalink': [],
  'files.uploadV2': ['files:write'],
  'usergroups.users.list': ['usergroups:read'],
  'views.open': [],
  'views.publish': [],
  'users.conversations': ['channels:read', 'groups:read'],
};

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) yield* sources(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

/** Every `client.<family>.<method>(` in the bot's code and its subcommands, by shape. */
function webApiMethodsCalled(): Set<string> {
  const found = new Set<string>();
  for (const dir of ['src/slack', 'commands', 'src/queue']) {
    for (const file of sources(path.join(REPO_ROOT, dir))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bclient\s*\.\s*([a-z]+(?:\s*\.\s*[A-Za-z0-9]+)+)\s*\(/g)) found.add(m[1]!.replace(/\s+/g, ''));
    }
  }
  return found;
}

describe('the Slack app manifests', () => {
  it('HTTP mode sends commands, buttons and events to /slack/events on one https host', () => {
    const urls = [http.features.slash_commands[0]!.url, http.settings.interactivity.request_url, http.settings.event_subscriptions?.request_url];
    for (const u of urls) {
      expect(u).toBeDefined();
      expect(new URL(u!).pathname).toBe('/slack/events');
    }
    expect(new Set(urls.map((u) => new URL(u!).host)).size).toBe(1);
    expect(http.settings.socket_mode_enabled).toBe(false);
  });

  it('Socket Mode has no request URL anywhere and the same command, scopes and bot user', () => {
    expect(socket.settings.socket_mode_enabled).toBe(true);
    expect(JSON.stringify(socket)).not.toMatch(/"(url|request_url)"/);
    expect(socket.oauth_config.scopes.bot).toEqual(http.oauth_config.scopes.bot);
    const { url: _url, ...httpCommand } = http.features.slash_commands[0]!;
    expect(socket.features.slash_commands[0]).toEqual(httpCommand);
    expect(socket.features.bot_user).toEqual(http.features.bot_user);
  });

  it('the scopes are exactly what the bot calls, plus commands', () => {
    const called = webApiMethodsCalled();
    expect(called.size).toBeGreaterThan(0);
    const unknown = [...called].filter((m) => !(m in METHOD_SCOPES));
    expect(unknown, 'Web API methods without a known scope: add them to METHOD_SCOPES and the manifests').toEqual([]);
    const needed = new Set(['commands', ...[...called].flatMap((m) => METHOD_SCOPES[m]!)]);
    for (const manifest of [http, socket]) expect(new Set(manifest.oauth_config.scopes.bot)).toEqual(needed);
  });

  it('the usage hint names exactly the registered subcommands, in help order', () => {
    const hinted = http.features.slash_commands[0]!.usage_hint.split('|').map((part) => part.trim().split(/\s+/)[0]);
    expect(hinted).toEqual(COMMANDS.map((c) => c.name));
  });
});

describe('the manifest command against the running bot (real Bolt HTTP receiver)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ registry: registryYaml({ 'prod-a': { url: 'http://127.0.0.1:9', host: 'gpu-1' } }) });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('the bot answers the manifest command at the manifest path, and its help lists every hinted subcommand', async () => {
    const command = http.features.slash_commands[0]!.command;
    expect(new URL(http.features.slash_commands[0]!.url!).pathname).toBe('/slack/events');
    const res = await postSlashCommand(h.botUrl, h.fake, { text: 'help', command });
    expect(res.status).toBe(200);
    const help = JSON.stringify(res.json);
    for (const c of COMMANDS) expect(help).toContain(`${command} ${c.name}`);
  });
});
