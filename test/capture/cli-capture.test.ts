import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUT_S, HEALTH_TIMEOUT_S, resolveCaptureTimeouts } from '../../src/sglang/endpoints.js';
import { startEmulator, type Emulator } from '../helpers/sglang-emulator.js';
import { REPO_ROOT, withTempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const BIN = path.join(REPO_ROOT, 'bin', 'triage.js');

async function triage(args: string[]) {
  const started = performance.now();
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr, ms: performance.now() - started };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, ms: performance.now() - started };
  }
}

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

describe('capture --timeout means what it says', () => {
  it('resolves: --timeout alone bounds the health probes; --health-timeout wins; neither keeps 10 s / 25 s', () => {
    expect(resolveCaptureTimeouts({})).toEqual({ timeoutS: DEFAULT_TIMEOUT_S, healthTimeoutS: HEALTH_TIMEOUT_S });
    expect(resolveCaptureTimeouts({ timeoutS: 3 })).toEqual({ timeoutS: 3, healthTimeoutS: 3 });
    expect(resolveCaptureTimeouts({ timeoutS: 3, healthTimeoutS: 30 })).toEqual({ timeoutS: 3, healthTimeoutS: 30 });
    expect(resolveCaptureTimeouts({ healthTimeoutS: 5 })).toEqual({ timeoutS: DEFAULT_TIMEOUT_S, healthTimeoutS: 5 });
  });

  it('a server that accepts connections and never answers: `--timeout 3` ends bounded by 3 s, not by the 25 s health budget', async () => {
    emulator = await startEmulator({ scenario: 'hung' });
    await withTempDir(async (dir) => {
      const out = path.join(dir, 'b');
      const r = await triage(['capture', emulator!.url, '--timeout', '3', '--out', out]);
      expect(r.code).toBe(0);
      // Generous for a loaded box (node start-up included), far below the 25 s it took before.
      expect(r.ms).toBeLessThan(12_000);
      const meta = JSON.parse(await readFile(path.join(out, 'metadata.json'), 'utf8'));
      expect(meta).toMatchObject({ timeout_seconds: 3, health_timeout_seconds: 3 });
      expect(meta.elapsed_seconds).toBeLessThan(4.5);
      for (const f of ['health.txt.error.json', 'health_generate.txt.error.json']) {
        expect(JSON.parse(await readFile(path.join(out, f), 'utf8')).error).toBe('TimeoutError: timed out after 3.0s');
      }
    });
  });

  it('--health-timeout given as well keeps its own budget for the health probes', async () => {
    emulator = await startEmulator({ scenario: 'hung' });
    await withTempDir(async (dir) => {
      const out = path.join(dir, 'b');
      const r = await triage(['capture', emulator!.url, '--timeout', '1', '--health-timeout', '2', '--out', out, '--json']);
      expect(r.code).toBe(0);
      const meta = JSON.parse(await readFile(path.join(out, 'metadata.json'), 'utf8'));
      expect(meta).toMatchObject({ timeout_seconds: 1, health_timeout_seconds: 2 });
      expect(JSON.parse(await readFile(path.join(out, 'health.txt.error.json'), 'utf8')).error).toBe('TimeoutError: timed out after 2.0s');
      expect(JSON.parse(await readFile(path.join(out, 'model_info.json'), 'utf8')).error).toBe('TimeoutError: timed out after 1.0s');
    });
  });
});

describe('capture never prints or writes URL credentials', () => {
  it('http://user:PASSWORD@host: the password is in no output and no file; the report goes to stdout', async () => {
    emulator = await startEmulator({ scenario: 'healthy' });
    await withTempDir(async (dir) => {
      const out = path.join(dir, 'b');
      const url = emulator!.url.replace('http://', 'http://triage-user:PASSWORD-s3cret@');
      const r = await triage(['capture', url, '--out', out, '--timeout', '5']);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('capturing http://triage-user:<redacted>@127.0.0.1');
      expect(`${r.stdout}\n${r.stderr}`).not.toContain('PASSWORD-s3cret');
      expect(r.stdout).toContain('What stands out:');
      const files = await readdir(out);
      for (const f of files) expect(await readFile(path.join(out, f), 'utf8'), f).not.toContain('PASSWORD-s3cret');
      const json = await triage(['capture', url, '--out', path.join(dir, 'c'), '--timeout', '5', '--json']);
      expect(json.stdout).not.toContain('PASSWORD-s3cret');
    });
  });
});
