/**
 * Guard: a fresh clone with nothing beside it must pass `npm test`. No test, helper, fake tool or bench
 * may name a path outside the repository root (the old fixture paths into the steering folder beside the clone are the example).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/tmp.js';

const SCANNED = ['test', 'bench', 'src', 'bin', '.ci', 'vitest.config.ts', 'package.json'];
const TEXT = /\.(ts|mts|js|mjs|cjs|sh|py|json|ya?ml)$|^[^.]+$/;

function* files(entry: string): Generator<string> {
  const st = statSync(entry);
  if (st.isFile()) {
    yield entry;
    return;
  }
  for (const name of readdirSync(entry)) {
    if (name === 'node_modules' || name === 'fixtures' || name === '__snapshots__') continue;
    yield* files(path.join(entry, name));
  }
}

const STEERING = ['sha', 'red'].join('');
const STEERING_PATH = new RegExp(`(^|[^A-Za-z0-9_])${STEERING}[\\\\/](fixtures|lab|reference)\\b`);
const STEERING_SEGMENTS = new RegExp(`['"\`]${STEERING}['"\`]\\s*,\\s*['"\`]fixtures`);

/** Every way a source file could reach out of the repository, by shape rather than by name. */
export function pathsOutsideRepo(text: string, fileDir: string): string[] {
  const found: string[] = [];
  if (STEERING_PATH.test(text) || STEERING_SEGMENTS.test(text)) {
    found.push('names the steering folder (a clone does not have it)');
  }
  for (const m of text.matchAll(/(?:\.\.[\\/]){1,12}[A-Za-z0-9_.-]*/g)) {
    const resolved = path.resolve(fileDir, m[0]);
    if (!resolved.startsWith(REPO_ROOT + path.sep) && resolved !== REPO_ROOT) found.push(`${m[0]} resolves outside the repo`);
  }
  for (const m of text.matchAll(/['"`]\.\.['"`]\s*,\s*['"`]\.\.['"`]\s*,\s*['"`]\.\.['"`]/g)) found.push(`${m[0]} climbs three levels`);
  return found;
}

describe('the repository stands on its own', () => {
  it('no test, helper, fake tool, bench or source file names a path outside the repository', () => {
    const offenders: string[] = [];
    for (const root of SCANNED) {
      const abs = path.join(REPO_ROOT, root);
      for (const file of files(abs)) {
        if (!TEXT.test(path.basename(file))) continue;
        if (file === path.join(REPO_ROOT, 'test', 'repo-self-contained.test.ts')) continue;
        for (const why of pathsOutsideRepo(readFileSync(file, 'utf8'), path.dirname(file))) offenders.push(`${path.relative(REPO_ROOT, file)}: ${why}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the guard itself catches the shapes that broke fresh clones', () => {
    const here = path.join(REPO_ROOT, 'test', 'fakes', 'bin');
    // The folder's name is assembled so that this file does not itself name a path outside the repo.
    const steering = ['sha', 'red'].join('');
    expect(pathsOutsideRepo(`fixtures="$here/../../../../${steering}/fixtures/gpu-h200"`, here).length).toBeGreaterThan(0);
    expect(pathsOutsideRepo(`path.resolve(REPO_ROOT, '..', '${steering}', 'fixtures')`, REPO_ROOT).length).toBeGreaterThan(0);
    expect(pathsOutsideRepo(`path.resolve(REPO_ROOT, '../${steering}/fixtures/gpu-h200')`, path.join(REPO_ROOT, 'test', 'gpu')).length).toBeGreaterThan(0);
    expect(pathsOutsideRepo('fixtures="$here/../../fixtures/gpu-h200"', here)).toEqual([]);
  });

  it('the real recordings the tests read are inside the repository', () => {
    for (const name of ['crash.cuda-gdb.txt', 'rank1.cuda-gdb-attach.txt', 'hang.nvidia-smi.csv', 'README.md']) {
      expect(statSync(path.join(REPO_ROOT, 'test', 'fixtures', 'gpu-h200', name)).size).toBeGreaterThan(0);
    }
  });
});
