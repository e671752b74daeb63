/**
 * Writes the pickle fixtures once per test file with CPython's own pickle (python3), into a fresh
 * temp dir. Our code never writes a fixture.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const MAKE_PICKLES = path.resolve(here, '../fixtures/pickles/make_pickles.py');

export interface Fixtures {
  dir: string;
  marker: string;
  file(name: string): string;
  manifest: {
    marker: string;
    dumps: Record<string, { kind: string; protocol: number; requests: Array<Record<string, unknown>> }>;
    values: Record<string, unknown>;
    hostile: { calls: string[]; truncated: string[] };
  };
  cleanup(): void;
}

export function writeFixtures(): Fixtures {
  const dir = mkdtempSync(path.join(tmpdir(), 'triage-pickles-'));
  const marker = path.join(dir, 'MARKER-if-this-exists-something-ran');
  execFileSync('python3', [MAKE_PICKLES, dir, marker], { stdio: ['ignore', 'ignore', 'inherit'] });
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Fixtures['manifest'];
  return {
    dir,
    marker,
    manifest,
    file: (name) => path.join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
