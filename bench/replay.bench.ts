/**
 * Replay start-time precision at --parallel 512: 5 000 requests with random recorded start times
 * spread over ~5 s, against a /generate target in a child process (so the target's work does not
 * share our event loop). Reports the start error (actual − ready, ms) p50/p99/max and requests/s for
 * the engine's single timer-driven scheduler, and for a naive reference that arms one setTimeout
 * per request. Goal: p99 <= 5 ms.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import type { BenchLog } from './run.js';
import { runReplay } from '../src/replay/engine.js';
import { sendOne } from '../src/replay/request.js';
import { percentiles } from '../src/replay/report.js';
import { planOffsets, realClock } from '../src/replay/schedule.js';
import type { ReplayRequest } from '../src/replay/types.js';

const N = 5000;
const SPAN_S = 5;
const PARALLEL = 512;
const here = path.dirname(fileURLToPath(import.meta.url));

function requests(seed = 42): ReplayRequest[] {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const times = Array.from({ length: N }, () => 1_700_000_000 + rand() * SPAN_S).sort((a, b) => a - b);
  return times.map((createdAt, index) => ({
    index,
    rid: `r${index}`,
    createdAt,
    finishedAt: createdAt + 0.05,
    body: { text: 'hello world', sampling_params: { max_new_tokens: 2 } },
    stream: false,
    unfinished: false,
  }));
}

async function startTarget(delayMs: number) {
  const child = spawn(process.execPath, [path.join(here, 'replay-target.mjs')], { env: { ...process.env, DELAY_MS: String(delayMs) }, stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`target exited ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.stdin.end() };
}

interface Figures {
  p50: number;
  p99: number;
  max: number;
  reqPerS: number;
  ok: number;
  /** Our process's CPU time per request (µs): the scheduler's polling shows here. */
  cpuUsPerReq: number;
}

async function engine(url: string, reqs: ReplayRequest[], spinMs?: number): Promise<Figures> {
  const cpu0 = process.cpuUsage();
  const run = await runReplay(reqs, { target: url, parallel: PARALLEL, timeoutMs: 30_000 }, { signal: new AbortController().signal, ...(spinMs !== undefined ? { spinMs } : {}) });
  const e = percentiles(run.results.map((r) => r.startErrorMs!));
  const ok = run.results.filter((r) => r.outcome.kind === 'ok').length;
  return { p50: e.p50!, p99: e.p99!, max: e.max!, reqPerS: (N / run.durationMs) * 1000, ok, cpuUsPerReq: cpuPerReq(cpu0) };
}

/** Reference: one setTimeout per request (what a straightforward port of the stock script does). */
async function naive(url: string, reqs: ReplayRequest[]): Promise<Figures> {
  const plan = planOffsets(reqs, 1);
  const pool = new Pool(url, { connections: PARALLEL, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
  const bodies = reqs.map((r) => JSON.stringify(r.body));
  const errors: number[] = [];
  let ok = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    plan.map(
      (offset, i) =>
        new Promise<void>((resolve) => {
          setTimeout(() => {
            errors.push(performance.now() - t0 - offset);
            sendOne(bodies[i]!, {
              dispatcher: pool,
              origin: url,
              path: '/generate',
              headers: { 'content-type': 'application/json' },
              clock: realClock,
              timeoutMs: 30_000,
              maxBodyBytes: 1 << 20,
              track: () => () => undefined,
              onAnswer: () => undefined,
              onBytes: () => undefined,
            }).then((m) => {
              if (m.outcome.kind === 'ok') ok++;
              resolve();
            });
          }, offset);
        }),
    ),
  );
  const duration = performance.now() - t0;
  await pool.destroy();
  const cpu = cpuPerReq(cpu0);
  const e = percentiles(errors);
  return { p50: e.p50!, p99: e.p99!, max: e.max!, reqPerS: (N / duration) * 1000, ok, cpuUsPerReq: cpu };
}

function cpuPerReq(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / N;
}

const fmt = (f: Figures) =>
  `p50 ${f.p50.toFixed(3)} ms  p99 ${f.p99.toFixed(3)} ms  max ${f.max.toFixed(3)} ms  ${f.reqPerS.toFixed(0)} req/s  cpu ${f.cpuUsPerReq.toFixed(0)} µs/req  ok ${f.ok}/${N}`;

/** The run with the median p99 of several (the machine may be shared: one run can be noisy). */
function medianRun(runs: Figures[]): Figures {
  return [...runs].sort((a, b) => a.p99 - b.p99)[Math.floor(runs.length / 2)]!;
}

const ROUNDS = 3;

export default async function (log: BenchLog): Promise<void> {
  const target = await startTarget(20);
  try {
    const reqs = requests();
    log(`${N} requests over ~${SPAN_S} s, --parallel ${PARALLEL}, target in a child process answering after 20 ms; median-p99 run of ${ROUNDS}, interleaved`);
    await engine(target.url, requests(7).slice(0, 500)); // warm-up: JIT, sockets
    await naive(target.url, requests(7).slice(0, 500));
    const variants: Array<[string, () => Promise<Figures>]> = [
      ['engine (default: one timer, no polling)', () => engine(target.url, reqs)],
      ['engine, last 1 ms polled (spinMs 1)    ', () => engine(target.url, reqs, 1)],
      ['reference (one setTimeout per request) ', () => naive(target.url, reqs)],
    ];
    const results = variants.map(() => [] as Figures[]);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, [, fn]] of variants.entries()) results[i]!.push(await fn());
    }
    const med = results.map(medianRun);
    variants.forEach(([name], i) => log(`${name}: ${fmt(med[i]!)}`));
    const ours = med[0]!;
    const ref = med[2]!;
    log(`p99 ratio reference/engine: ${(ref.p99 / Math.max(ours.p99, 0.001)).toFixed(1)}x; goal p99 <= 5 ms: ${ours.p99 <= 5 ? 'met' : 'NOT met'} (${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)})`);
  } finally {
    target.stop();
  }
}
