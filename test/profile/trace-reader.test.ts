import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isTriageError } from '../../src/errors.js';
import { readTrace, torchTraceRecognizer } from '../../src/evidence/profile/index.js';
import { IntervalUnion } from '../../src/evidence/profile/interval-union.js';
import { TraceEventScanner } from '../../src/evidence/profile/trace-scanner.js';
import { FOLDER_RECOGNIZERS, RECOGNIZERS } from '../../src/evidence/registry.js';
import { scanFolder } from '../../src/evidence/scan.js';
import { FIXTURES, withTempDir } from '../helpers/tmp.js';

const TRACE = path.join(FIXTURES, 'gpu-h200-faults', 'tiny-decoder.trace.json');
/** CUDA graphs, a side-stream copy overlapping kernels, the profiler's schedule; gzip from tensorboard_trace_handler. */
const GRAPH_TRACE = path.join(FIXTURES, 'gpu-h200-faults', 'extra', 'graph-profile', 'rank0.1796144050505385638.pt.trace.json.gz');
const signal = new AbortController().signal;

/** CPython's json.load and the same aggregation, as the independent reference. */
function pythonReference(file: string): { kernels: number; kernelUs: number; busyUs: number; top: [string, number]; forward: number } {
  const script = `
import gzip, json, sys
raw = open(sys.argv[1], 'rb').read()
d = json.loads(gzip.decompress(raw) if raw[:2] == b'\\x1f\\x8b' else raw)
ks = [e for e in d['traceEvents'] if e.get('ph') == 'X' and e.get('cat') == 'kernel']
gpu = sorted((e['ts'], e['ts'] + e['dur']) for e in d['traceEvents'] if e.get('ph') == 'X' and e.get('cat') in ('kernel', 'gpu_memcpy', 'gpu_memset'))
busy, cur = 0.0, None
for s, t in gpu:
    if cur and s <= cur[1]: cur[1] = max(cur[1], t)
    else:
        if cur: busy += cur[1] - cur[0]
        cur = [s, t]
if cur: busy += cur[1] - cur[0]
by = {}
for e in ks: by[e['name']] = by.get(e['name'], 0) + e['dur']
top = max(by.items(), key=lambda kv: kv[1])
fwd = sum(1 for e in d['traceEvents'] if e.get('cat') == 'user_annotation' and e.get('name') == 'forward')
print(json.dumps({'kernels': len(ks), 'kernelUs': sum(e['dur'] for e in ks), 'busyUs': busy, 'top': top, 'forward': fwd}))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as ReturnType<typeof pythonReference>;
}

describe('torch profiler trace reader on the real H200 trace', () => {
  it('matches CPython json.load + the same aggregation: kernel time, busy union, dominant kernel, ranges', async () => {
    const ref = pythonReference(TRACE);
    const t = await readTrace(TRACE, { signal });
    expect(t.complete).toBe(true);
    expect(t.kernelCount).toBe(ref.kernels);
    expect(t.kernelTimeUs).toBeCloseTo(ref.kernelUs, 3);
    expect(t.devices).toHaveLength(1);
    expect(t.devices[0]!.busyUs).toBeCloseTo(ref.busyUs, 3);
    expect(t.devices[0]!.idleUs).toBeCloseTo(t.windowUs - ref.busyUs, 3);
    expect(t.topKernels[0]!.example).toBe(ref.top[0]);
    expect(t.topKernels[0]!.totalUs).toBeCloseTo(ref.top[1], 3);
    expect(t.dominantKernel?.name).toBe('nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_bias_TNT');
    expect(t.dominantKernel!.share).toBeGreaterThan(0.55);
    expect(t.dominantKernel!.share).toBeLessThan(0.65);
    const forward = t.ranges.find((r) => r.name === 'forward');
    expect(forward?.count).toBe(ref.forward);
    expect(forward!.gpuUs).toBeGreaterThan(0);
    expect(t.ranges.find((r) => r.name === 'sample')?.count).toBe(6);
    expect(t.deviceNames).toEqual(['NVIDIA H200']);
  });

  it('the CUDA-graph / side-stream trace: overlapping copy and kernels counted once, ProfilerStep ranges', async () => {
    const ref = pythonReference(GRAPH_TRACE);
    const t = await readTrace(GRAPH_TRACE, { signal });
    expect(t.kernelCount).toBe(ref.kernels);
    expect(t.kernelTimeUs).toBeCloseTo(ref.kernelUs, 3);
    const gpu = t.devices[0]!;
    expect(gpu.streams).toBe(2);
    // The copy runs on its own stream beside the compute stream.
    expect(gpu.streamBusy).toHaveLength(2);
    expect(gpu.streamBusy[0]!.kernels).toBe(t.kernelCount);
    expect(gpu.streamBusy[1]!.kernels).toBe(0);
    expect(gpu.streamBusy[1]!.busyUs).toBeCloseTo(t.memcpyUs, 0);
    expect(gpu.busyUs).toBeCloseTo(ref.busyUs, 3);
    expect(t.memcpyUs).toBeGreaterThan(1000);
    // The copy overlaps compute: the union is less than the sum.
    expect(gpu.busyUs).toBeLessThan(t.kernelTimeUs + t.memcpyUs + t.memsetUs - 1000);
    expect(t.dominantKernel?.name).toBe(ref.top[0]);
    expect(t.ranges.map((r) => r.name)).toEqual(expect.arrayContaining(['prefill', 'kv_offload_copy', 'decode_graph', 'ProfilerStep#2']));
    expect(t.ranges.find((r) => r.name === 'decode_graph')!.gpuUs).toBeGreaterThan(0);
  });

  it('names kernels bare: no namespace, template arguments or parameters', async () => {
    const t = await readTrace(TRACE, { signal });
    const layerNorm = t.topKernels.find((k) => k.example.includes('vectorized_layer_norm_kernel'));
    expect(layerNorm?.name).toBe('vectorized_layer_norm_kernel');
    for (const k of t.topKernels) expect(k.name).not.toMatch(/[<>():\s]/);
  });

  it('reads the gzip export (told apart by magic bytes, not the name) to the same summary', async () => {
    await withTempDir(async (dir) => {
      const renamed = path.join(dir, 'capture-000.bin');
      await copyFile(`${TRACE}.gz`, renamed);
      expect(await readTrace(renamed, { signal })).toEqual(await readTrace(TRACE, { signal }));
    });
  });

  it('is recognised by content under any name, plain and gzip, and describes itself', async () => {
    await withTempDir(async (dir) => {
      await mkdir(path.join(dir, 'profiles', 'rank0'), { recursive: true });
      await copyFile(`${TRACE}.gz`, path.join(dir, 'profiles', 'rank0', '1733-TP-0.trace.json.gz'));
      await copyFile(TRACE, path.join(dir, 'blob.dat'));
      // A Chrome trace that is not torch's (a ninja build trace) and a gzip of something else.
      await writeFile(path.join(dir, 'build-trace.json'), JSON.stringify({ traceEvents: [{ name: 'cc', cat: 'targets', ph: 'X', ts: 1, dur: 2, pid: 0, tid: 0 }] }));
      await writeFile(path.join(dir, 'notes.gz'), gzipSync('plain words, no trace here\n'));
      const ev = await scanFolder(dir, { recognizers: RECOGNIZERS, folderRecognizers: FOLDER_RECOGNIZERS, signal });
      expect(ev.of('torch-trace').map((i) => i.file).sort()).toEqual(['blob.dat', 'profiles/rank0/1733-TP-0.trace.json.gz']);
      // No other recognizer claims a trace (kernel and Python names inside it are not a log or a stack).
      const kinds = (ev.items as Array<{ kind: string; file: string }>).filter((i) => i.file === 'blob.dat' || i.file.endsWith('.gz')).map((i) => i.kind);
      expect(new Set(kinds)).toEqual(new Set(['torch-trace']));
      expect(ev.checked.find((c) => c.startsWith('blob.dat'))).toMatch(/270 kernel launches.*top kernel nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_bias_TNT 60%.*GPU 0 busy/);
    });
  });
});

describe('trace reader on damaged and hostile input', () => {
  it('a trace cut off mid-write (plain and gzip) gives what was read, marked incomplete', async () => {
    const text = await readFile(TRACE);
    await withTempDir(async (dir) => {
      const cut = text.subarray(0, Math.floor(text.length * 0.6));
      await writeFile(path.join(dir, 'cut.json'), cut);
      const gz = gzipSync(text);
      await writeFile(path.join(dir, 'cut.json.gz'), gz.subarray(0, Math.floor(gz.length * 0.6)));
      for (const name of ['cut.json', 'cut.json.gz']) {
        const t = await readTrace(path.join(dir, name), { signal });
        expect(t.complete).toBe(false);
        expect(t.events).toBeGreaterThan(1000);
        expect(t.events).toBeLessThan(3472);
      }
    });
  });

  it('JSON that is no trace is E_BAD_INPUT from readTrace, and not this kind for the recognizer', async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'x.json');
      // traceEvents nested below the root is not a trace's event list, though the head looks like one.
      await writeFile(file, JSON.stringify({ schemaVersion: 1, deviceProperties: [], meta: { traceEvents: [{ ph: 'X', cat: 'kernel' }] } }));
      const err = await readTrace(file, { signal }).catch((e: unknown) => e);
      expect(isTriageError(err, 'E_BAD_INPUT')).toBe(true);
      const head = await readFile(file, 'latin1');
      const sniffed = { path: file, rel: 'x.json', size: head.length, head };
      expect(torchTraceRecognizer.sniff(sniffed)).toBe(true);
      expect(await torchTraceRecognizer.read(sniffed, signal)).toBeNull();
      const missing = await readTrace(path.join(dir, 'nope.json'), { signal }).catch((e: unknown) => e);
      expect(isTriageError(missing, 'E_NOT_FOUND')).toBe(true);
    });
  });

  it('an aborted signal stops the read with E_ABORTED', async () => {
    const ctrl = new AbortController();
    ctrl.abort(new Error('cancelled'));
    const err = await readTrace(TRACE, { signal: ctrl.signal }).catch((e: unknown) => e);
    expect(isTriageError(err, 'E_ABORTED')).toBe(true);
  });

  it('drops and counts an element past the size cap, keeps the rest, and skips invalid elements', async () => {
    await withTempDir(async (dir) => {
      const kernel = (name: string, ts: number) => ({ ph: 'X', cat: 'kernel', name, pid: 0, tid: 7, ts, dur: 10, args: { device: 0, stream: 7 } });
      const huge = { ...kernel('huge_kernel', 0), args: { device: 0, pad: 'x'.repeat(5000) } };
      const text = `{"traceEvents": [${JSON.stringify(kernel('a_kernel', 100))}, ${JSON.stringify(huge)}, {"ph": "X", "cat": "kernel", "name": bad}, ${JSON.stringify(kernel('a_kernel', 200))}]}`;
      const file = path.join(dir, 't.json');
      await writeFile(file, text);
      const t = await readTrace(file, { signal, scanner: { maxElementChars: 1000 } });
      expect(t.oversizedEvents).toBe(1);
      expect(t.badEvents).toBe(1);
      expect(t.kernelCount).toBe(2);
      expect(t.topKernels.map((k) => k.name)).toEqual(['a_kernel']);
      expect(t.devices[0]!.busyUs).toBe(20);
    });
  });
});

describe('TraceEventScanner', () => {
  const events = [
    { ph: 'X', cat: 'kernel', name: 'k "quoted" \\ back\\\\slash {not} [structure]', ts: 1, dur: 2 },
    { ph: 'X', cat: 'cpu_op', name: 'ünïcødé ✓ 𝄞', args: { nested: [{ a: '}' }, [']', '\\"']] } },
    { ph: 'i', name: 'end\\', s: 'g' },
  ];
  const doc = JSON.stringify({ schemaVersion: 1, traceName: 'has "traceEvents": [ inside', deviceProperties: [{ name: 'GPU' }], traceEvents: events, after: { traceEvents: [1] } }, null, 2);

  function split(chunkSize: (i: number) => number): { events: unknown[]; members: string[]; complete: boolean } {
    const got: unknown[] = [];
    const members: string[] = [];
    const s = new TraceEventScanner({ event: (t) => got.push(JSON.parse(t)), member: (k, t) => members.push(`${k}=${t.replace(/\s+/g, '')}`) }, (k) => k === 'deviceProperties');
    for (let i = 0, n = 0; i < doc.length; n++) {
      const size = Math.max(1, chunkSize(n));
      s.write(doc.slice(i, i + size));
      i += size;
    }
    return { events: got, members, complete: s.state.complete };
  }

  it('splits the same events whatever the chunk boundaries (escapes and brackets inside strings)', () => {
    const whole = split(() => doc.length);
    expect(whole.events).toEqual(events);
    expect(whole.members).toEqual(['deviceProperties=[{"name":"GPU"}]']);
    expect(whole.complete).toBe(true);
    expect(split(() => 1)).toEqual(whole);
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % 13);
    for (let round = 0; round < 20; round++) expect(split(rnd)).toEqual(whole);
  });

  it('reads a root array (the Chrome JSON Array Format) as events', () => {
    const got: unknown[] = [];
    const s = new TraceEventScanner({ event: (t) => got.push(JSON.parse(t)), member: () => undefined }, () => false);
    s.write(JSON.stringify(events));
    expect(got).toEqual(events);
    expect(s.state.sawTraceEvents).toBe(true);
  });
});

describe('IntervalUnion', () => {
  function exactUnion(iv: Array<[number, number]>): number {
    const sorted = [...iv].sort((a, b) => a[0] - b[0]);
    let total = 0;
    let cur: [number, number] | null = null;
    for (const [s, e] of sorted) {
      if (cur && s <= cur[1]) cur[1] = Math.max(cur[1], e);
      else {
        if (cur) total += cur[1] - cur[0];
        cur = [s, e];
      }
    }
    return cur ? total + cur[1] - cur[0] : total;
  }

  it('equals the exact union for unordered, overlapping intervals across many blocks', () => {
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
    const iv: Array<[number, number]> = Array.from({ length: 5000 }, () => {
      const s = rnd() * 100000;
      return [s, s + rnd() * 40];
    });
    const u = new IntervalUnion(256, 100000);
    for (const [s, e] of iv) u.add(s, e);
    expect(u.total()).toBeCloseTo(exactUnion(iv), 6);
    expect(u.overestimateUs).toBe(0);
  });

  it('past its segment cap stays bounded and over-counts by at most what it reports', () => {
    const iv: Array<[number, number]> = Array.from({ length: 20000 }, (_, k) => [k * 10, k * 10 + 3 + (k % 5)]);
    const u = new IntervalUnion(512, 1000);
    for (const [s, e] of iv) u.add(s, e);
    const exact = exactUnion(iv);
    const total = u.total();
    expect(u.segmentCount()).toBeLessThanOrEqual(1000);
    expect(u.overestimateUs).toBeGreaterThan(0);
    expect(total).toBeGreaterThanOrEqual(exact);
    expect(total - u.overestimateUs).toBeCloseTo(exact, 6);
  });
});
