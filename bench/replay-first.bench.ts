/**
 * Time to the first replayed request on the ~200 MB crash dump of bench/pickle.bench.ts: ours
 * (load + replay, as `triage replay` runs them) against the reference trusted replay script's
 * behaviour (bench/replay_reference.py: CPython's C pickle.load of the whole dump, sort, send).
 * Each side is a fresh process; the clock starts just before the load (interpreter start-up and
 * imports excluded on both sides) and stops when the target sees the first request's headers.
 * Interleaved, best and median of ROUNDS. Goal: ours ≤ 1.2× the reference.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDump } from './pickle.bench.js';
import type { BenchLog } from './run.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = 5;
const GOAL = 1.2;

/** Starts `cmd`, returns seconds from its printed t0 to the first request at the target. */
async function firstRequest(cmd: string, args: string[]): Promise<number> {
  let arrived: (at: number) => void = () => {};
  const first = new Promise<number>((resolve) => (arrived = resolve));
  const server = http.createServer((req, res) => {
    arrived((performance.timeOrigin + performance.now()) / 1000);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"","meta_info":{"finish_reason":{"type":"length"}}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/generate`;
  const child = spawn(cmd, [...args, url], { cwd: path.join(here, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const t0 = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line && out.includes('\n')) resolve((JSON.parse(line) as { t0: number }).t0);
      });
      child.once('exit', (code) => reject(new Error(`${cmd} exited ${code} before its first request`)));
    });
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`${cmd} exited ${code} before its first request`))));
    return (await Promise.race([first, exited])) - t0;
  } finally {
    child.kill('SIGKILL');
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export default async function bench(log: BenchLog): Promise<void> {
  const dump = await ensureDump(log);
  const ours: number[] = [];
  const ref: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    ref.push(await firstRequest('python3', [path.join(here, 'replay_reference.py'), dump.file]));
    ours.push(await firstRequest(process.execPath, ['--import', 'tsx', path.join(here, 'replay-first-worker.ts'), dump.file]));
  }
  const s = (x: number) => `${x.toFixed(3)} s`;
  log(`dump: ${(dump.size / 1024 / 1024).toFixed(0)} MiB; load start → first request at the target, fresh process each, ${ROUNDS} rounds interleaved`);
  log(`reference (CPython pickle.load, sort, send): best ${s(Math.min(...ref))}, median ${s(median(ref))}`);
  log(`ours (loadReplayRequests + runReplay):       best ${s(Math.min(...ours))}, median ${s(median(ours))}`);
  const ratio = median(ours) / median(ref);
  log(`time to first replayed request: ${ratio.toFixed(2)}× the reference (median; best-vs-best ${(Math.min(...ours) / Math.min(...ref)).toFixed(2)}×); goal ≤ ${GOAL}×: ${ratio <= GOAL ? 'met' : 'NOT met'}`);
}
