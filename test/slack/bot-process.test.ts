import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_TOKEN, registryYaml } from '../helpers/bot-harness.js';
import { FakeSlack } from '../helpers/fake-slack.js';
import { cleanupPrefix, freePort, REDIS_URL, uniquePrefix } from '../helpers/redis-test.js';
import { postSlashCommand, SIGNING_SECRET } from '../helpers/slack-requests.js';
import { spawnBot, type WorkerChild } from '../helpers/worker-child.js';

/** `npm run bot`'s entry as a child process: env read once through zod, SIGTERM ends it cleanly. */
describe('the bot entry (src/slack/main.ts)', () => {
  let fake: FakeSlack;
  let dir: string;
  let bot: WorkerChild;
  let port: number;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    fake = await new FakeSlack({ botToken: BOT_TOKEN }).start();
    dir = await mkdtemp(path.join(os.tmpdir(), 'triage-bot-'));
    await writeFile(path.join(dir, 'servers.yaml'), registryYaml({ 'prod-a': { url: 'http://127.0.0.1:9', host: 'gpu-1' } }));
    port = await freePort();
    bot = spawnBot({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl.replace(/\/$/, ''),
      REDIS_URL,
      TRIAGE_SERVERS: path.join(dir, 'servers.yaml'),
      TRIAGE_QUEUE_PREFIX: prefix,
      PORT: String(port),
      TRIAGE_LISTEN_HOST: '127.0.0.1',
    });
    await bot.ready;
  }, 30_000);
  afterAll(async () => {
    await bot?.kill('SIGKILL');
    await fake?.close();
    await cleanupPrefix(prefix);
    await rm(dir, { recursive: true, force: true });
  });

  it('answers signed slash commands on PORT and reports ready with its hosts', async () => {
    const res = await postSlashCommand(`http://127.0.0.1:${port}`, fake, { text: 'capture nope' });
    expect(res.status).toBe(200);
    expect(String(res.json?.text)).toContain('Registered servers: `prod-a`');
    expect(bot.logs.find((l) => l.msg === 'bot ready')).toMatchObject({ mode: 'http', port, hosts: ['gpu-1'] });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it('stops cleanly on SIGTERM', async () => {
    expect(await bot.kill('SIGTERM')).toBe(0);
    expect(bot.logs.map((l) => l.msg)).toContain('bot stopping');
  });
});

describe('bad bot config', () => {
  it('exits 1 with a dot-path message naming what to fix', async () => {
    const bot = spawnBot({ SLACK_SIGNING_SECRET: 's' });
    expect(await bot.exited).toBe(1);
    const text = bot.logs.map((l) => String(l.raw ?? l.msg)).join('\n');
    expect(text).toContain('SLACK_BOT_TOKEN');
  });
});
