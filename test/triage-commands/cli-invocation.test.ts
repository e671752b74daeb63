/** The real CLI: `triage route` prints commands that start triage the way this machine can. */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/tmp.js';

const BIN = path.join(REPO_ROOT, 'bin', 'triage.js');

describe('triage route through bin/triage.js', () => {
  it('no triage on PATH: npx --no triage, and the --servers FILE the user gave, absolute', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'triage-cli-inv-'));
    try {
      const inc = path.join(dir, 'inc');
      await mkdir(inc);
      await writeFile(path.join(dir, 'servers.yaml'), 'servers:\n  prod-a:\n    url: http://127.0.0.1:9\n');
      await writeFile(path.join(inc, 'incident.json'), JSON.stringify({ id: 'inc-1', server: 'prod-a', status: 'open', createdAt: '2026-12-01T00:00:00Z', timeline: [] }));
      const r = spawnSync(process.execPath, [BIN, 'route', 'inc', '--servers', 'servers.yaml', '--json'], { cwd: dir, env: { PATH: path.dirname(process.execPath), HOME: dir }, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const report = JSON.parse(await readFile(path.join(inc, 'report.json'), 'utf8'));
      const route = report.nextStep.commands.find((c: string) => c.includes(' route '));
      expect(route).toBe(`npx --no triage route ${inc} --servers ${path.join(dir, 'servers.yaml')}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
