/**
 * Issue 12.3: no writer follows a link. Each test plants a symlink where a writer will write, aimed at
 * a file outside the folder, and checks the outside file is untouched and the link became a real file.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createReplayCommand } from '../../src/cli/replay.js';
import { cliEnvSchema, credentialsFrom, loadEnv } from '../../src/config/env.js';
import { writeFileAtomic } from '../../src/fsutil/atomic-write.js';
import { writeIncidentFile } from '../../src/incident/incident-file.js';
import { runCli } from '../cli/run-cli.js';
import { startEmulator, type Emulator } from '../helpers/sglang-emulator.js';
import { FIXTURES, withTempDir } from '../helpers/tmp.js';
import { writeFixtures, type Fixtures } from '../pickle/fixtures.js';
import { req, useFakeSglang } from '../replay/fake-sglang.js';
import { PassThrough } from 'node:stream';

const OUTSIDE_TEXT = 'precious: must never be overwritten\n';

/** `<tmp>/outside/<name>` holding OUTSIDE_TEXT, and `<folder>/<name>` a symlink to it. */
async function plant(tmp: string, folder: string, names: string[]): Promise<() => Promise<void>> {
  const outside = path.join(tmp, 'outside');
  await mkdir(outside, { recursive: true });
  await mkdir(folder, { recursive: true });
  for (const name of names) {
    await writeFile(path.join(outside, name), OUTSIDE_TEXT);
    await symlink(path.join(outside, name), path.join(folder, name));
  }
  return async () => {
    for (const name of names) {
      expect(await readFile(path.join(outside, name), 'utf8'), `outside ${name}`).toBe(OUTSIDE_TEXT);
      const st = lstatSync(path.join(folder, name));
      expect(st.isSymbolicLink(), `${name} is still a link`).toBe(false);
      expect(st.isFile(), `${name} is a regular file`).toBe(true);
    }
    expect(readdirSync(folder).filter((n) => n.endsWith('.tmp')), 'no temp files left behind').toEqual([]);
  };
}

describe('writeFileAtomic', () => {
  it('replaces a symlink instead of writing through it', async () => {
    await withTempDir(async (tmp) => {
      const folder = path.join(tmp, 'inc');
      const check = await plant(tmp, folder, ['report.json']);
      await writeFileAtomic(path.join(folder, 'report.json'), '{"ok":true}\n');
      await check();
      expect(await readFile(path.join(folder, 'report.json'), 'utf8')).toBe('{"ok":true}\n');
    });
  });

  it('replaces a dangling link and a FIFO without opening them (a FIFO would block an open forever)', async () => {
    await withTempDir(async (tmp) => {
      await symlink(path.join(tmp, 'nowhere', 'x'), path.join(tmp, 'dangling.json'));
      await writeFileAtomic(path.join(tmp, 'dangling.json'), 'a');
      expect(lstatSync(path.join(tmp, 'dangling.json')).isFile()).toBe(true);
      execFileSync('mkfifo', [path.join(tmp, 'health.txt')]);
      await writeFileAtomic(path.join(tmp, 'health.txt'), 'b');
      expect(await readFile(path.join(tmp, 'health.txt'), 'utf8')).toBe('b');
    });
  });

  it('a failed write leaves the old file and no temp file', async () => {
    await withTempDir(async (tmp) => {
      const dir = path.join(tmp, 'target-is-a-dir');
      await mkdir(path.join(dir, 'inside'), { recursive: true });
      await expect(writeFileAtomic(dir, 'x')).rejects.toThrow();
      expect(readdirSync(tmp).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      expect(lstatSync(path.join(dir, 'inside')).isDirectory()).toBe(true);
    });
  });
});

describe('every writer replaces links', () => {
  let fx: Fixtures;
  let emulator: Emulator;
  beforeAll(async () => {
    fx = writeFixtures();
    emulator = await startEmulator({ scenario: 'healthy' });
  });
  afterAll(async () => {
    fx.cleanup();
    await emulator.close();
  });
  const fake = useFakeSglang(afterEach);

  it('triage route: report.json and report.md', async () => {
    await withTempDir(async (tmp) => {
      const inc = path.join(tmp, 'inc');
      const check = await plant(tmp, inc, ['report.json', 'report.md']);
      await writeFile(path.join(inc, 'server.log'), await readFile(path.join(FIXTURES, 'handmade', 'device-assert.log')));
      const r = await runCli(['route', inc]);
      expect(r.code, r.stderr).toBe(0);
      await check();
      expect(JSON.parse(await readFile(path.join(inc, 'report.json'), 'utf8')).problemClass).toBe(r.stdout.match(/problem class:\s+(\S+)/)![1]);
    });
  });

  it('triage dump --out: dump-summary.json', async () => {
    await withTempDir(async (tmp) => {
      const out = path.join(tmp, 'out');
      const check = await plant(tmp, out, ['dump-summary.json']);
      const r = await runCli(['dump', fx.file('crash_dump_p4.pkl'), '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      await check();
      expect(JSON.parse(await readFile(path.join(out, 'dump-summary.json'), 'utf8')).counts.requests).toBeGreaterThan(0);
    });
  });

  it('triage capture --out: metadata.json, endpoint files, SUMMARY.txt, summary.json and the report', async () => {
    await withTempDir(async (tmp) => {
      const out = path.join(tmp, 'bundle');
      const names = ['metadata.json', 'health.txt', 'server_info.json', 'SUMMARY.txt', 'summary.json', 'report.json', 'report.md'];
      const check = await plant(tmp, out, names);
      const r = await runCli(['capture', emulator.url, '--out', out, '--timeout', '3']);
      expect(r.code, r.stderr).toBe(0);
      await check();
      expect(JSON.parse(await readFile(path.join(out, 'metadata.json'), 'utf8')).tool).toBe('sglang-triage');
    });
  });

  it('triage replay: replay/replay.json', async () => {
    const s = await fake();
    await withTempDir(async (tmp) => {
      const inc = path.join(tmp, 'inc');
      const check = await plant(tmp, path.join(inc, 'replay'), ['replay.json']);
      const stdout = new PassThrough().resume();
      const stderr = new PassThrough().resume();
      const ctx = { stdout, stderr, env: loadEnv(cliEnvSchema, {}), credentials: credentialsFrom({}), cwd: tmp, signal: new AbortController().signal, interactive: false };
      const code = await createReplayCommand({ loadRequests: async (input) => ({ requests: [req(1)], files: [input] }) })(['d.pkl', '--target', s.url, '--out', inc], ctx);
      expect(code).toBe(0);
      await check();
    });
  });

  it('incident.json', async () => {
    await withTempDir(async (tmp) => {
      const inc = path.join(tmp, 'inc');
      const check = await plant(tmp, inc, ['incident.json']);
      await writeIncidentFile(inc, { id: 'inc-1', server: 'prod-a', status: 'open', createdAt: new Date(0).toISOString(), timeline: [] });
      await check();
      expect(JSON.parse(await readFile(path.join(inc, 'incident.json'), 'utf8')).id).toBe('inc-1');
    });
  });
});
