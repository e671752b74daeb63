import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../helpers/sglang-emulator.js';
import { REPO_ROOT, withTempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const BIN = path.join(REPO_ROOT, 'bin', 'triage.js');

async function triage(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ scenario: 'ttft-spike' });
});
afterAll(() => emulator.close());

describe('the triage CLI (built, as a subprocess)', () => {
  it('capture --json prints one JSON document on stdout and progress on stderr', async () => {
    await withTempDir(async (dir) => {
      const r = await triage(['capture', emulator.url, '--out', path.join(dir, 'b'), '--json']);
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.report.problemClass).toBe('slow');
      expect(doc.report.facts.dominantStage).toBe('prefill_forward');
      expect(r.stderr).toContain('metrics.txt');
    });
  });

  it('capture by registered name uses servers.yaml and its token env var', async () => {
    await withTempDir(async (dir) => {
      const servers = path.join(dir, 'servers.yaml');
      await writeFile(servers, `servers:\n  prod-a:\n    url: ${emulator.url}\n    host: gpu-1\n    tokenEnv: PROD_A_TOKEN\n`);
      const r = await triage(['capture', 'prod-a', '--out', path.join(dir, 'b'), '--json', '--servers', servers], { PROD_A_TOKEN: 'tok-123456' });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).summary.server).toBe('prod-a');
      const unknown = await triage(['capture', 'prod-b', '--servers', servers]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('Registered servers: prod-a');
    });
  });

  it('--json failures still print one JSON document on stdout', async () => {
    const r = await triage(['route', '/nonexistent/folder/x', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'E_NOT_FOUND' } });
  });

  it('usage errors exit 2, failures exit 1', async () => {
    expect((await triage([])).code).toBe(2);
    expect((await triage(['frobnicate'])).code).toBe(2);
    expect((await triage(['capture'])).code).toBe(2);
    expect((await triage(['capture', emulator.url, '--timeout', 'soon'])).stderr).toMatch(/--timeout must be a number/);
    const missing = await triage(['route', '/nonexistent/folder/x']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such folder/);
  });

  it('run auto <url> makes an incident folder with incident.json, a baseline and a report', async () => {
    await withTempDir(async (dir) => {
      const out = path.join(dir, 'inc-1');
      const r = await triage(['run', 'auto', emulator.url, '--out', out, '--json', '--timeout', '5']);
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.report.problemClass).toBe('slow');
      expect(r.stderr).toMatch(/\[done\] capture baseline bundle/);
      const incident = JSON.parse(await readFile(path.join(out, 'incident.json'), 'utf8'));
      expect(incident).toMatchObject({ server: emulator.url, status: 'routed', problemClass: 'slow' });
      expect(incident.timeline.length).toBeGreaterThan(4);
      expect((await triage(['run', 'sideways', emulator.url])).code).toBe(2);
    });
  });

  it('route --json on a folder prints the report', async () => {
    await withTempDir(async (dir) => {
      await mkdir(path.join(dir, 'inc'));
      const cap = await triage(['capture', emulator.url, '--out', path.join(dir, 'inc', 'baseline')]);
      expect(cap.code).toBe(0);
      const r = await triage(['route', path.join(dir, 'inc'), '--json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).nextStep.skill).toBe('llm-torch-profiler-analysis');
    });
  });
});
