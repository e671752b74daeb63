/**
 * Dump reading against CPython's C unpickler, on the same ~200 MB SGLang-shaped crash dump (4000
 * requests with long prompts), in the same run. Goal: ≤ 1.5× CPython's time, peak memory ≤ 2× the
 * file size.
 *   summary: parse + model extraction, what `triage dump` and `triage route` do (long strings stay in
 *            the file as PyText; only previews are decoded)
 *   replay:  what `triage replay` does before its first request (loadReplayRequests: parse, facts,
 *            every body's cost charged to the load's budget; bodies themselves are built at send time)
 * Each side runs in its own child process, best of N runs; peak RSS growth is measured there.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchLog } from './run.js';

const pexec = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const WORK = path.join(here, '.work');
const DUMP = path.join(WORK, 'crash_dump_bench.pkl');
const PARAMS = { requests: 4000, targetMb: 200, generator: 1 };
const REPEATS = 3;
const GOAL_RATIO = 1.5;
const GOAL_MEMORY = 2;

interface Measured {
  seconds: number;
  first: number;
  /** CPU seconds of the best run (steadier than wall time on a shared machine). */
  cpuSeconds: number;
  peakRssGrowthBytes: number;
}

/** Writes the bench dump with CPython once (kept under bench/.work); shared with replay-first.bench.ts. */
export async function ensureDump(log: BenchLog): Promise<{ file: string; size: number }> {
  const stamp = `${DUMP}.params.json`;
  const wanted = JSON.stringify(PARAMS);
  const have = await readFile(stamp, 'utf8').catch(() => '');
  if (have !== wanted || !(await stat(DUMP).catch(() => null))) {
    await mkdir(WORK, { recursive: true });
    log(`writing ${path.relative(process.cwd(), DUMP)} with CPython (${PARAMS.requests} requests, ~${PARAMS.targetMb} MB)…`);
    await pexec('python3', [path.join(here, 'pickle_dump.py'), 'make', DUMP, String(PARAMS.requests), String(PARAMS.targetMb)], { timeout: 600_000 });
    await writeFile(stamp, wanted);
  }
  return { file: DUMP, size: (await stat(DUMP)).size };
}

async function cpython(): Promise<Measured & { version: string }> {
  const { stdout } = await pexec('python3', [path.join(here, 'pickle_dump.py'), 'load', DUMP, String(REPEATS)], { timeout: 600_000, maxBuffer: 1 << 20 });
  const r = JSON.parse(stdout) as { seconds: number; first: number; cpuSeconds: number; peakRssGrowthBytes: number; pythonVersion: string };
  return { seconds: r.seconds, first: r.first, cpuSeconds: r.cpuSeconds, peakRssGrowthBytes: r.peakRssGrowthBytes, version: r.pythonVersion };
}

async function ours(mode: 'summary' | 'replay', repeats: number): Promise<Measured & { requests: number; unfinished: number }> {
  const { stdout } = await pexec(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(here, 'pickle-worker.ts'), DUMP, mode, String(repeats)], {
    cwd: path.join(here, '..'),
    timeout: 600_000,
    maxBuffer: 1 << 20,
  });
  const r = JSON.parse(stdout) as { times: number[]; cpuTimes: number[]; peakRssGrowthBytes: number; requests: number; unfinished: number };
  return { seconds: Math.min(...r.times), first: r.times[0]!, cpuSeconds: Math.min(...r.cpuTimes), peakRssGrowthBytes: r.peakRssGrowthBytes, requests: r.requests, unfinished: r.unfinished };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const s = (seconds: number) => `${seconds.toFixed(3)} s`;

export default async function bench(log: BenchLog): Promise<void> {
  const { size } = await ensureDump(log);
  // Interleave the two sides so background load on the machine hits both alike.
  const py1 = await cpython();
  const summary = await ours('summary', REPEATS);
  const py2 = await cpython();
  const replay = await ours('replay', 2);
  const py = py1.seconds <= py2.seconds ? py1 : py2;
  const pyMemory = Math.max(py1.peakRssGrowthBytes, py2.peakRssGrowthBytes);
  const pyCpu = Math.min(py1.cpuSeconds, py2.cpuSeconds);

  log(`dump: ${mb(size)}, ${summary.requests} requests (${summary.unfinished} unfinished), best of ${REPEATS} runs per side`);
  log(`CPython ${py.version} pickle.load (C):  ${s(py.seconds)} (first ${s(py.first)}, cpu ${s(pyCpu)})   peak RSS +${mb(pyMemory)} (${(pyMemory / size).toFixed(2)}× file)`);
  for (const [name, m] of [
    ['ours, summary (parse + model)', summary],
    ['ours, replay load (lazy bodies)', replay],
  ] as const) {
    const ratio = m.seconds / py.seconds;
    const memory = m.peakRssGrowthBytes / size;
    log(
      `${name}: ${s(m.seconds)} (first ${s(m.first)}, cpu ${s(m.cpuSeconds)})   ${ratio.toFixed(2)}× CPython (cpu ${(m.cpuSeconds / pyCpu).toFixed(2)}×)   peak RSS +${mb(m.peakRssGrowthBytes)} (${memory.toFixed(2)}× file)` +
        `   ${ratio <= GOAL_RATIO && memory <= GOAL_MEMORY ? 'within goal' : 'OVER GOAL'}`,
    );
  }
  log(`goal: ≤ ${GOAL_RATIO}× CPython's time and peak memory ≤ ${GOAL_MEMORY}× the file (${mb(size * GOAL_MEMORY)}); the summary path is what triage dump/route run`);
}
