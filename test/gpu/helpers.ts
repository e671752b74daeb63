/**
 * Shared by the GPU-evidence tests: where the real recordings and the hand-made fixtures live, and a
 * builder for throwaway incident folders with random file names in random subfolders (recognition is
 * by content, so names must not matter).
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FOLDER_RECOGNIZERS, RECOGNIZERS } from '../../src/evidence/registry.js';
import { scanFolder } from '../../src/evidence/scan.js';
import type { Evidence } from '../../src/evidence/types.js';
import type { Report } from '../../src/contracts/report.js';
import { route } from '../../src/triage/route.js';
import { RULES } from '../../src/triage/rules/index.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The real 2xH200 recordings, kept in the repository (see its README). */
export const REAL = path.join(REPO_ROOT, 'test/fixtures/gpu-h200');
export const HANDMADE = path.join(REPO_ROOT, 'test/fixtures/handmade');

export const real = (name: string): Promise<string> => readFile(path.join(REAL, name), 'utf8');
export const handmade = (name: string): Promise<string> => readFile(path.join(HANDMADE, name), 'utf8');

export const CRASH_FILES = ['crash.stderr.txt', 'crash.cuda-gdb.txt', 'crash.compute-sanitizer.txt', 'crash.cuda-coredump.tar.xz', 'nvidia-smi.txt'] as const;
export const HANG_FILES = [
  'hang.stdout.txt',
  'hang.nvidia-smi.csv',
  'rank0.pystack.txt',
  'rank1.pystack.txt',
  'rank0.cuda-gdb-attach.txt',
  'rank1.cuda-gdb-attach.txt',
  'rank0.wchan.txt',
  'rank1.wchan.txt',
] as const;

const SUBDIRS = ['', 'stacks', 'coredumps', 'logs', 'gpu', 'misc/deep', 'x'];

/** A seeded PRNG so "random" layouts are reproducible in a failure message. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Source = { real: string } | { handmade: string } | { name: string; text: string | Buffer };

export interface TempIncident {
  dir: string;
  /** source name → path relative to dir */
  placed: Record<string, string>;
  cleanup(): Promise<void>;
}

/** Copies sources into a fresh folder under random names in random subfolders. */
export async function makeIncident(sources: Source[], rand: () => number = Math.random): Promise<TempIncident> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'triage-gpu-'));
  const placed: Record<string, string> = {};
  for (const src of sources) {
    const sub = SUBDIRS[Math.floor(rand() * SUBDIRS.length)]!;
    const name = `${randomBytes(4).toString('hex')}${rand() < 0.5 ? '.out' : ''}`;
    const rel = sub ? `${sub}/${name}` : name;
    await mkdir(path.join(dir, sub), { recursive: true });
    if ('real' in src) {
      await copyFile(path.join(REAL, src.real), path.join(dir, rel));
      placed[src.real] = rel;
    } else if ('handmade' in src) {
      await copyFile(path.join(HANDMADE, src.handmade), path.join(dir, rel));
      placed[src.handmade] = rel;
    } else {
      await writeFile(path.join(dir, rel), src.text);
      placed[src.name] = rel;
    }
  }
  return { dir, placed, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function scan(dir: string): Promise<Evidence> {
  return scanFolder(dir, { recognizers: RECOGNIZERS, folderRecognizers: FOLDER_RECOGNIZERS, signal: new AbortController().signal });
}

export async function routeFolder(dir: string): Promise<Report> {
  return route(await scan(dir), { root: dir, incidentDir: dir }, RULES);
}

/** Routes a set of sources laid out at random; cleans up. */
export async function routeSources(sources: Source[], seed = 1): Promise<{ report: Report; placed: Record<string, string> }> {
  const inc = await makeIncident(sources, prng(seed));
  try {
    return { report: await routeFolder(inc.dir), placed: inc.placed };
  } finally {
    await inc.cleanup();
  }
}

/** Every subset of `items` (2^n; keep n small). */
export function subsets<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let mask = 1; mask < 1 << items.length; mask++) out.push(items.filter((_, i) => mask & (1 << i)));
  return out;
}
