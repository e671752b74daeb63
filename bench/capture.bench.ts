/**
 * Capture speed against the reference collector's method (sequential urllib GETs, as
 * incident_artifact_tool.py collect-bundle does), on the same emulated server, in the same run.
 *   1. hung server: wall time as a ratio to the per-request timeout (physical limit 1.0; sequential: 8)
 *   2. healthy server with realistic latencies: wall time as a ratio to the slowest endpoint
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { captureStep } from '../src/pipelines/capture-step.js';
import { BUNDLE_ENDPOINTS } from '../src/sglang/endpoints.js';
import type { BenchLog } from './run.js';

const pexec = promisify(execFile);

async function startEmulatorProcess(scenario: string, port: number, latency?: string): Promise<ChildProcess> {
  const args = ['--import', 'tsx', 'test/helpers/sglang-emulator.ts', '--scenario', scenario, '--port', String(port), ...(latency ? ['--latency', latency] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => d.toString().includes('emulator') && resolve());
    child.once('exit', (code) => reject(new Error(`emulator exited ${code}`)));
  });
  return child;
}

/** The reference method: one urllib GET after another, each with the same timeout. */
async function sequentialReference(base: string, timeoutS: number): Promise<number> {
  const paths = JSON.stringify(BUNDLE_ENDPOINTS.map((e) => e.path));
  const script = `
import json, sys, time, urllib.request
paths = json.loads(sys.argv[1]); base = sys.argv[2]; timeout = float(sys.argv[3])
t0 = time.perf_counter()
for p in paths:
    try:
        urllib.request.urlopen(base + p, timeout=timeout).read()
    except Exception:
        pass
print(time.perf_counter() - t0)`;
  const { stdout } = await pexec('python3', ['-c', script, paths, base, String(timeoutS)], { timeout: 600_000 });
  return Number(stdout.trim()) * 1000;
}

async function ours(base: string, timeoutS: number, dir: string): Promise<number> {
  const started = performance.now();
  await captureStep({ baseUrl: base, outDir: dir, role: 'live', timeoutS, healthTimeoutS: timeoutS, signal: new AbortController().signal, now: () => new Date() });
  return performance.now() - started;
}

export default async function bench(log: BenchLog): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'triage-bench-'));
  try {
    const timeoutS = 2;
    const hung = await startEmulatorProcess('hung', 30901);
    try {
      const base = 'http://127.0.0.1:30901';
      const mine = await ours(base, timeoutS, path.join(work, 'hung'));
      const ref = await sequentialReference(base, timeoutS);
      log(`hung server, per-request timeout ${timeoutS} s:`);
      log(`  sglang-triage ${(mine / 1000).toFixed(2)} s = ${(mine / (timeoutS * 1000)).toFixed(2)} x timeout (physical limit 1.00)`);
      log(`  reference (sequential urllib) ${(ref / 1000).toFixed(2)} s = ${(ref / (timeoutS * 1000)).toFixed(2)} x timeout`);
      log(`  speed-up vs reference: ${(ref / mine).toFixed(2)}x`);
    } finally {
      hung.kill();
    }

    // Realistic: the health probes wait ~1 s for a token; JSON endpoints answer in tens of ms.
    const latency = '/health=1000,/health_generate=1000,/metrics=60,/model_info=5,/server_info=40,/v1/loads=25,/hicache/storage-backend=5';
    const slowest = 1000;
    const healthy = await startEmulatorProcess('healthy', 30902, latency);
    try {
      const base = 'http://127.0.0.1:30902';
      const runs: number[] = [];
      for (let i = 0; i < 5; i++) runs.push(await ours(base, 10, path.join(work, `healthy-${i}`)));
      runs.sort((a, b) => a - b);
      const median = runs[2]!;
      const ref = await sequentialReference(base, 10);
      log(`healthy server with realistic endpoint latencies (slowest endpoint ${slowest} ms):`);
      log(`  sglang-triage median of 5: ${median.toFixed(0)} ms = ${(median / slowest).toFixed(2)} x slowest endpoint`);
      log(`  reference (sequential urllib): ${ref.toFixed(0)} ms = ${(ref / slowest).toFixed(2)} x slowest endpoint`);
      log(`  speed-up vs reference: ${(ref / median).toFixed(2)}x`);
    } finally {
      healthy.kill();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
