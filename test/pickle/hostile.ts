/** Writes the hostile pickles (test/pickle/hostile_pickles.py) with CPython into a fresh temp dir. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface Hostile {
  dir: string;
  secret: string;
  file(name: string): string;
  cleanup(): void;
}

export function writeHostile(): Hostile {
  const dir = mkdtempSync(path.join(tmpdir(), 'triage-hostile-'));
  execFileSync('python3', [path.join(here, 'hostile_pickles.py'), dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const about = JSON.parse(readFileSync(path.join(dir, 'hostile.json'), 'utf8')) as { secret: string };
  return { dir, secret: about.secret, file: (name) => path.join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
