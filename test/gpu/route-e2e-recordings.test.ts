import { cp } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMPTY_REGISTRY } from '../../src/config/servers.js';
import { routeStep } from '../../src/pipelines/route-step.js';
import { REPO_ROOT, withTempDir } from '../helpers/tmp.js';

const RECORDINGS = path.join(REPO_ROOT, 'test', 'fixtures', 'gpu-h200-e2e');
const signal = new AbortController().signal;

async function routeRecording(name: string) {
  return withTempDir(async (dir) => {
    await cp(path.join(RECORDINGS, name), dir, { recursive: true });
    return (await routeStep(dir, { registry: EMPTY_REGISTRY, signal, write: false })).report;
  });
}

describe('held-out real GPU incidents (recorded after the rules were written)', () => {
  it('global-memory illegal address in a paged KV gather → debug-cuda-crash with the faulting kernel', async () => {
    const r = await routeRecording('illegal-address');
    expect(r.problemClass).toBe('crash');
    expect(r.nextStep.skill).toBe('debug-cuda-crash');
    expect(r.facts.faultingKernel).toBe('paged_kv_gather_kernel');
    expect(r.facts.cudaException).toBe('Warp Illegal Address');
    expect(String(r.facts.rootCauseHint)).toMatch(/upstream/);
    expect(r.evidence.some((e) => e.file.startsWith('coredumps/'))).toBe(true);
  });

  it('device-side assert → crash in the asserting kernel', async () => {
    const r = await routeRecording('device-assert');
    expect(r.problemClass).toBe('crash');
    expect(r.nextStep.skill).toBe('debug-cuda-crash');
    expect(r.facts.faultingKernel).toBe('vectorized_gather_kernel');
  });

  it('OOM is a crash, never a hang', async () => {
    const r = await routeRecording('oom');
    expect(r.problemClass).toBe('crash');
    expect(r.nextStep.skill).not.toBe('debug-distributed-hang');
    expect(r.strongestSignal).toMatch(/out of memory/i);
  });

  it('AllReduce hang where rank 1 skipped → debug-distributed-hang naming rank 1 and the NCCL kernel', async () => {
    const r = await routeRecording('allreduce-hang');
    expect(r.problemClass).toBe('hang');
    expect(r.nextStep.skill).toBe('debug-distributed-hang');
    expect(r.facts.collective).toBe('AllReduce');
    expect(r.facts.divergentRank).toBe(1);
    expect(r.facts.stuckKernel).toBe('ncclDevKernel_AllReduce_Sum_f32_RING_LL');
  });
});
