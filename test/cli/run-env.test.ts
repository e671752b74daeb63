/**
 * `triage run` hands pipelines only the token variables servers.yaml names (PipelineDeps.env), while the
 * processes it starts (here a managed clean target) get the environment as a shell would hand it on.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/redis-test.js';
import { REPO_ROOT, withTempDir } from '../helpers/tmp.js';

const BIN = path.join(REPO_ROOT, 'bin', 'triage.js');

function triage(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('triage run and the environment', () => {
  it('a managed clean target started by `triage run replay` inherits the shell environment', async () => {
    await withTempDir(async (dir) => {
      const port = await freePort();
      const envFile = path.join(dir, 'target-env.txt');
      const emulator = path.join(REPO_ROOT, 'test', 'helpers', 'sglang-emulator.ts');
      const launch = `env > '${envFile}'; exec '${process.execPath}' --import tsx '${emulator}' --scenario healthy --port ${port}`;
      const yaml = path.join(dir, 'servers.yaml');
      await writeFile(
        yaml,
        `servers:\n  prod-a:\n    url: http://127.0.0.1:9\n    host: gpu-1\n    tokenEnv: PROD_A_TOKEN\n    replay:\n      url: http://127.0.0.1:${port}\n      managed: true\n      readyTimeoutS: 60\n      launch: "${launch.replace(/"/g, '\\"')}"\n`,
      );
      const inc = path.join(dir, 'inc');
      await mkdir(path.join(inc, 'dumps'), { recursive: true });
      execFileSync('python3', [path.join(REPO_ROOT, 'test', 'fixtures', 'pickles', 'make_incident_dump.py'), path.join(inc, 'dumps', 'crash_dump.pkl'), 'crash']);
      const r = await triage(['run', 'replay', 'prod-a', '--servers', yaml, '--out', inc, '--json'], {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        PROD_A_TOKEN: 'tok-prod-a-0123456789',
        MARKER_FOR_CHILDREN: 'handed-on',
      });
      expect(r.code, r.stderr).toBe(0);
      const targetEnv = readFileSync(envFile, 'utf8');
      expect(targetEnv).toMatch(/^MARKER_FOR_CHILDREN=handed-on$/m);
      expect(targetEnv).toMatch(/^PATH=/m);
      expect(JSON.parse(r.stdout).incidentDir).toBe(inc);
      // the target was stopped when the pipeline ended
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    });
  }, 150_000);
});
