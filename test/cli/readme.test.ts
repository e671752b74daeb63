/**
 * The README is true where its text can be checked without a live server: the `triage --help`
 * block, the config-typo message, the "Did you mean" lines and the bot's missing-token line are
 * what the code prints today. (The capture/dump/replay/route walkthrough is re-run by hand; its
 * timings and timestamps vary.)
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { botProcessEnvSchema } from '../../src/slack/bot-config.js';
import { REPO_ROOT, withTempDir } from '../helpers/tmp.js';
import { runCli } from './run-cli.js';

/** The built CLI in `cwd`, as a person runs it (relative --servers paths are read from there). */
function triageIn(cwd: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO_ROOT, 'bin', 'triage.js'), ...args], { cwd, env: { PATH: process.env.PATH ?? '' } }, (err, _stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr });
    });
  });
}

const README = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

/** The fenced block that starts with `first` (its first line), without the fences. */
function block(first: string): string {
  const start = README.indexOf(`\`\`\`\n${first}\n`);
  expect(start, `README block starting "${first}"`).toBeGreaterThanOrEqual(0);
  const body = README.slice(start + 4 + first.length + 1);
  return body.slice(0, body.indexOf('```'));
}

describe('README', () => {
  it('shows what `triage --help` prints', async () => {
    expect(block('$ npx triage --help')).toBe((await runCli(['--help'])).stdout);
  });

  it('shows the real message for a servers.yaml typo', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'typo.yaml'), 'servers:\n  prod-a:\n    url: http://10.0.0.5:30000\n    host: gpu-host-1\n    crashDumpDirr: /data/crash\n');
      const r = await triageIn(dir, ['capture', 'prod-a', '--servers', 'typo.yaml']);
      expect(r.code).toBe(1);
      expect(block('$ npx triage capture prod-a --servers typo.yaml')).toBe(r.stderr);
    });
  });

  it('shows the real "Did you mean" lines', async () => {
    const flag = await runCli(['route', 'inc', '--jsno']);
    expect(README).toContain(flag.stderr.split('\n')[0]!);
    const command = await runCli(['rout']);
    expect(command.stderr).toContain('Did you mean "route"?');
    expect(README).toContain('`triage rout` → `Did you mean "route"?`');
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'ok.yaml'), 'servers:\n  prod-a:\n    url: http://10.0.0.5:30000\n    host: gpu-host-1\n');
      const server = await triageIn(dir, ['capture', 'prod-b', '--servers', 'ok.yaml']);
      const line = server.stderr.replace(/^triage: /, '').split('. Or pass')[0]!;
      expect(README).toContain(line.slice(0, line.indexOf('Registered servers: prod-a.') + 'Registered servers: prod-a.'.length));
    });
  });

  it('shows the real line for a missing bot token', () => {
    let message = '';
    try {
      loadEnv(botProcessEnvSchema, { SLACK_SIGNING_SECRET: 's' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).not.toBe('');
    const line = message.split('\n').find((l) => l.includes('SLACK_BOT_TOKEN'))!;
    expect(README).toContain(line);
  });
});
