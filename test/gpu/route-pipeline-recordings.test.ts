import { cp } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMPTY_REGISTRY } from '../../src/config/servers.js';
import { routeStep } from '../../src/pipelines/route-step.js';
import { REPO_ROOT, withTempDir } from '../helpers/tmp.js';

const RECORDINGS = path.join(REPO_ROOT, 'test', 'fixtures', 'gpu-h100-pipeline');

async function routeRecording(name: string) {
  return withTempDir(async (dir) => {
    await cp(path.join(RECORDINGS, name), dir, { recursive: true });
    return (await routeStep(dir, { registry: EMPTY_REGISTRY, signal: new AbortController().signal, write: false })).report;
  });
}

describe('incident folders that triage run wrote on a real H100 host', () => {
  it('crash: the coredump transcript our collector wrote routes to the faulting kernel, despite a dead HTTP front end', async () => {
    const r = await routeRecording('crash');
    expect(r).toMatchObject({ problemClass: 'crash', nextStep: { skill: 'debug-cuda-crash' } });
    expect(r.facts).toMatchObject({ faultingKernel: 'paged_kv_gather_kernel', cudaException: 'Warp Illegal Address' });
  });

  it('hang (attach mode): live cuda-gdb attach names the spinning NCCL kernel; the NCCL log names rank 1', async () => {
    const r = await routeRecording('hang-attach');
    expect(r).toMatchObject({ problemClass: 'hang', nextStep: { skill: 'debug-distributed-hang' } });
    expect(r.facts).toMatchObject({ stuckKernel: 'ncclDevKernel_AllReduce_Sum_f32_RING_LL', collective: 'AllReduce', divergentRank: 1 });
    expect(r.evidence.some((e) => e.file.startsWith('stacks/cuda-gdb-attach.'))).toBe(true);
  });
});
