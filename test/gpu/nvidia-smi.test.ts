import { describe, expect, it } from 'vitest';
import { parseNvidiaSmi } from '../../src/evidence/gpu/nvidia-smi.js';
import { handmade, real } from './helpers.js';

describe('nvidia-smi', () => {
  it('plain table (real): two idle H200s, no processes, no asymmetry', async () => {
    const e = parseNvidiaSmi(await real('nvidia-smi.txt'));
    expect(e.snapshots).toHaveLength(1);
    expect(e.snapshots[0]).toMatchObject({ format: 'table', driver: '580.159.04', cuda: '13.0', processes: [] });
    expect(e.snapshots[0]?.gpus).toEqual([
      { index: 0, name: 'NVIDIA H200', busId: '00000000:00:06.0', memUsedMiB: 0, memTotalMiB: 143771, utilPct: 0 },
      { index: 1, name: 'NVIDIA H200', busId: '00000000:00:07.0', memUsedMiB: 0, memTotalMiB: 143771, utilPct: 0 },
    ]);
    expect(e.asymmetry).toBeUndefined();
  });

  it('query CSV (real hang): per-GPU utilisation and memory, processes, GPU 1 busy while GPU 0 idles', async () => {
    const e = parseNvidiaSmi(await real('hang.nvidia-smi.csv'));
    expect(e.snapshots).toHaveLength(1);
    expect(e.snapshots[0]?.gpus).toEqual([
      { index: 0, utilPct: 0, memUsedMiB: 1591 },
      { index: 1, utilPct: 100, memUsedMiB: 1591 },
    ]);
    expect(e.snapshots[0]?.processes.map((p) => [p.pid, p.usedMiB])).toEqual([
      [929, 1582],
      [930, 1582],
    ]);
    expect(e.asymmetry).toEqual({ busy: [1], idle: [0], util: { 0: 0, 1: 100 } });
  });

  it('plain table with processes (hand-made): processes per GPU and the idle GPU', async () => {
    const e = parseNvidiaSmi(await handmade('nvidia-smi-4gpu-busy.txt'));
    expect(e.snapshots[0]?.processes).toEqual([
      { gpuIndex: 0, pid: 61201, name: 'sglang::scheduler_TP0', usedMiB: 71224 },
      { gpuIndex: 1, pid: 61202, name: 'sglang::scheduler_TP1', usedMiB: 71224 },
      { gpuIndex: 2, pid: 61203, name: 'sglang::scheduler_TP2', usedMiB: 71224 },
      { gpuIndex: 3, pid: 61204, name: 'sglang::scheduler_TP3', usedMiB: 71224 },
    ]);
    expect(e.asymmetry).toMatchObject({ busy: [0, 1, 3], idle: [2] });
  });

  it('CSV with uuids maps processes to GPU indexes', () => {
    const e = parseNvidiaSmi('index, uuid, utilization.gpu [%], memory.used [MiB]\n0, GPU-a, 97 %, 70000 MiB\n1, GPU-b, 3 %, 70000 MiB\npid, gpu_uuid, used_gpu_memory [MiB]\n11, GPU-b, 69000 MiB\n');
    expect(e.snapshots[0]?.processes).toEqual([{ pid: 11, gpuUuid: 'GPU-b', usedMiB: 69000, gpuIndex: 1 }]);
    expect(e.asymmetry).toMatchObject({ busy: [0], idle: [1] });
  });

  it('an unused idle GPU next to a busy one is not asymmetry', () => {
    const e = parseNvidiaSmi('index, utilization.gpu [%], memory.used [MiB]\n0, 100 %, 70000 MiB\n1, 0 %, 3 MiB\n');
    expect(e.asymmetry).toBeUndefined();
  });
});
