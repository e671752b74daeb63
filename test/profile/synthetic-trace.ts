/**
 * Writes torch.profiler-shaped Chrome traces of any size for tests and the bench, and says what a
 * correct reader must find in them. The layout follows the real export in
 * test/fixtures/gpu-h200-faults/tiny-decoder.trace.json (header members, then traceEvents with
 * cpu_op / cuda_runtime / kernel / user_annotation / gpu_user_annotation / flow events).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';

export interface SyntheticExpectation {
  kernelCount: number;
  /** bare name → total µs */
  kernelUs: Map<string, number>;
  busyUs: Map<number, number>;
  rangeCount: Map<string, number>;
  bytes: number;
}

const KERNELS = [
  { full: 'void flashinfer::BatchPrefillWithPagedKVCacheKernel<128u, 4u, (flashinfer::MaskMode)1, float>(flashinfer::PrefillParams, int)', bare: 'BatchPrefillWithPagedKVCacheKernel', dur: 41.25 },
  { full: 'sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1_execute_segment_k_off_kernel__5x_cublas', bare: 'sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1_execute_segment_k_off_kernel__5x_cublas', dur: 18.5 },
  { full: 'void at::native::(anonymous namespace)::vectorized_layer_norm_kernel<c10::BFloat16, float, false>(int, float, c10::BFloat16 const*)', bare: 'vectorized_layer_norm_kernel', dur: 3.75 },
  { full: 'triton_poi_fused_add_mul_silu_0', bare: 'triton_poi_fused_add_mul_silu_0', dur: 2.5 },
];

/** A cpu_op as torch writes it with record_shapes: most of the file's bytes, and never needed. */
function cpuOp(ts: number, pid: number, name: string): string {
  return JSON.stringify(
    {
      ph: 'X', cat: 'cpu_op', name, pid, tid: pid, ts, dur: 9.5,
      args: { 'External id': 7, 'Record function id': 0, 'Input Dims': [[8, 512, 1024], [3072, 1024], []], 'Input type': ['c10::BFloat16', 'c10::BFloat16', ''], 'Concrete Inputs': ['', '', 'a "quoted" {brace} [bracket] \\ value'], 'Ev Idx': 3 },
    },
    null,
    1,
  );
}

export async function writeSyntheticTrace(file: string, opts: { targetBytes: number; devices?: number; gzip?: boolean }): Promise<SyntheticExpectation> {
  const devices = opts.devices ?? 2;
  const fileStream = createWriteStream(file);
  let out: Writable = fileStream;
  if (opts.gzip) {
    const gz = createGzip({ level: 1 });
    gz.pipe(fileStream);
    out = gz;
  }
  const exp: SyntheticExpectation = { kernelCount: 0, kernelUs: new Map(), busyUs: new Map(), rangeCount: new Map(), bytes: 0 };
  const write = async (s: string): Promise<void> => {
    exp.bytes += s.length;
    if (!out.write(s)) await once(out, 'drain');
  };
  await write(`{\n  "schemaVersion": 1,\n  "deviceProperties": [${Array.from({ length: devices }, (_, d) => `{"id": ${d}, "name": "NVIDIA H200", "numSms": 132}`).join(', ')}],\n  "distributedInfo": {"backend": "nccl", "rank": 1, "world_size": ${devices}},\n  "displayTimeUnit": "ms",\n  "traceEvents": [\n`);
  const pid = 4242;
  let ts = 5_286_053_607_000;
  let step = 0;
  let first = true;
  const sep = (): string => (first ? ((first = false), '') : ',\n');
  while (exp.bytes < opts.targetBytes) {
    const rangeName = step % 5 === 4 ? 'decode' : 'forward';
    exp.rangeCount.set(rangeName, (exp.rangeCount.get(rangeName) ?? 0) + 1);
    const stepStart = ts;
    let buf = sep() + JSON.stringify({ ph: 'X', cat: 'user_annotation', name: rangeName, pid, tid: pid, ts: stepStart, dur: 400, args: { 'External id': step } });
    for (let d = 0; d < devices; d++) {
      let gpuTs = stepStart + 20;
      for (const k of KERNELS) {
        buf += ',\n' + cpuOp(gpuTs - 15, pid, 'aten::linear');
        buf += ',\n' + JSON.stringify({ ph: 'X', cat: 'cuda_runtime', name: 'cudaLaunchKernel', pid, tid: pid, ts: gpuTs - 10, dur: 4.0, args: { correlation: step } });
        buf += ',\n' + JSON.stringify({ ph: 'f', id: step, pid, tid: pid, ts: gpuTs - 10, cat: 'ac2g', name: 'ac2g', bp: 'e' });
        buf += ',\n' + JSON.stringify({ ph: 'X', cat: 'kernel', name: k.full, pid: d, tid: 7, ts: gpuTs, dur: k.dur, args: { device: d, stream: 7, correlation: step, grid: [132, 1, 1], block: [256, 1, 1] } });
        exp.kernelCount++;
        exp.kernelUs.set(k.bare, (exp.kernelUs.get(k.bare) ?? 0) + k.dur);
        exp.busyUs.set(d, (exp.busyUs.get(d) ?? 0) + k.dur);
        gpuTs += k.dur + 5; // an idle gap between kernels
      }
    }
    buf += ',\n' + JSON.stringify({ ph: 'X', cat: 'gpu_user_annotation', name: rangeName, pid: 0, tid: 7, ts: stepStart + 20, dur: 120, args: {} });
    await write(buf);
    ts += 1000;
    step++;
  }
  await write('\n  ],\n  "traceName": "synthetic"\n}\n');
  out.end();
  await once(fileStream, 'close');
  return exp;
}
