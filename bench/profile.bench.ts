/**
 * Torch profiler trace reading against CPython's C `json.load` plus the same aggregation (kernel time
 * by name, busy union per device, ranges), on the same ~200 MB torch-shaped trace, in the same run.
 * Each side runs in its own child process; best of REPEATS. Ours also reports its peak heap, which
 * stays bounded while CPython holds the whole document.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { writeSyntheticTrace } from '../test/profile/synthetic-trace.js';
import type { BenchLog } from './run.js';

const pexec = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const WORK = path.join(here, '.work');
const TRACE = path.join(WORK, 'torch_trace_bench.trace.json');
const PARAMS = { targetMb: 200, devices: 2, generator: 1 };
const REPEATS = 2;

const REFERENCE = `
import json, resource, sys, time
t0 = time.perf_counter()
with open(sys.argv[1]) as f:
    d = json.load(f)
kernels, busy, ranges = {}, {}, {}
for e in d['traceEvents']:
    if e.get('ph') != 'X':
        continue
    cat = e.get('cat')
    if cat in ('kernel', 'gpu_memcpy', 'gpu_memset'):
        dev = (e.get('args') or {}).get('device', e.get('pid'))
        busy.setdefault(dev, []).append((e['ts'], e['ts'] + e['dur']))
        if cat == 'kernel':
            kernels[e['name']] = kernels.get(e['name'], 0) + e['dur']
    elif cat in ('user_annotation', 'gpu_user_annotation'):
        ranges[e['name']] = ranges.get(e['name'], 0) + e['dur']
busy_us = []
for dev, iv in busy.items():
    iv.sort()
    total, cs, ce = 0.0, None, None
    for s, t in iv:
        if cs is not None and s <= ce:
            ce = max(ce, t)
        else:
            if cs is not None:
                total += ce - cs
            cs, ce = s, t
    busy_us.append(total + (ce - cs if cs is not None else 0))
seconds = time.perf_counter() - t0
print(json.dumps({'seconds': seconds, 'kernelTimeUs': sum(kernels.values()), 'busyUs': busy_us, 'peakRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
`;

async function ensureTrace(log: BenchLog): Promise<number> {
  const stamp = `${TRACE}.params.json`;
  const wanted = JSON.stringify(PARAMS);
  if ((await readFile(stamp, 'utf8').catch(() => '')) !== wanted || !(await stat(TRACE).catch(() => null))) {
    await mkdir(WORK, { recursive: true });
    log(`writing ${path.relative(process.cwd(), TRACE)} (~${PARAMS.targetMb} MB, torch-shaped)…`);
    await writeSyntheticTrace(TRACE, { targetBytes: PARAMS.targetMb * 1024 * 1024, devices: PARAMS.devices });
    await writeFile(stamp, wanted);
  }
  return (await stat(TRACE)).size;
}

export default async function bench(log: BenchLog): Promise<void> {
  const bytes = await ensureTrace(log);
  const ours: Array<{ seconds: number; peakHeapMiB: number; rssMiB: number; kernelTimeUs: number; busyUs: number[] }> = [];
  const ref: Array<{ seconds: number; peakRssMiB: number; kernelTimeUs: number; busyUs: number[] }> = [];
  for (let k = 0; k < REPEATS; k++) {
    const { stdout } = await pexec('python3', ['-c', REFERENCE, TRACE], { timeout: 600_000, maxBuffer: 1 << 20 });
    ref.push(JSON.parse(stdout) as (typeof ref)[number]);
    const mine = await pexec(process.execPath, ['--import', 'tsx', path.join(here, '..', 'test', 'profile', 'read-trace-child.ts'), TRACE], { cwd: path.join(here, '..'), timeout: 600_000, maxBuffer: 1 << 20 });
    ours.push(JSON.parse(mine.stdout) as (typeof ours)[number]);
  }
  const best = <T extends { seconds: number }>(xs: T[]): T => xs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const o = best(ours);
  const r = best(ref);
  const agree = Math.abs(o.kernelTimeUs - r.kernelTimeUs) < 1e-6 * r.kernelTimeUs && o.busyUs.every((b, i) => Math.abs(b - r.busyUs[i]!) < 1e-6 * r.busyUs[i]!);
  const mb = bytes / 1e6;
  log(`trace: ${mb.toFixed(0)} MB; results agree with the reference: ${agree ? 'yes' : 'NO'}`);
  log(`CPython json.load + aggregation: ${r.seconds.toFixed(2)} s (${(mb / r.seconds).toFixed(0)} MB/s), peak RSS ${r.peakRssMiB.toFixed(0)} MiB`);
  log(`readTrace (streaming):           ${o.seconds.toFixed(2)} s (${(mb / o.seconds).toFixed(0)} MB/s), peak heap ${o.peakHeapMiB.toFixed(0)} MiB, RSS ${o.rssMiB.toFixed(0)} MiB`);
  log(`ratio ours / CPython: ${(o.seconds / r.seconds).toFixed(2)}×  (best of ${REPEATS}; times: ours ${ours.map((x) => x.seconds.toFixed(2)).join(', ')}; CPython ${ref.map((x) => x.seconds.toFixed(2)).join(', ')})`);
  if (!agree) throw new Error('readTrace and the CPython reference disagree on kernel or busy time');
}
