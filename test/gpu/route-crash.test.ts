import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/contracts/report.js';
import { routeSources, subsets, type Source } from './helpers.js';

/** Files of the real MoE crash that carry the signal; the tarball and nvidia-smi are noise here. */
const SIGNAL = ['crash.cuda-gdb.txt', 'crash.stderr.txt', 'crash.compute-sanitizer.txt'] as const;
const NOISE = ['crash.cuda-coredump.tar.xz', 'nvidia-smi.txt'] as const;
const BARE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function expectEvidencePointsAtPlacedFiles(report: Report, placed: Record<string, string>): void {
  const files = new Set(Object.values(placed));
  expect(report.evidence.length).toBeGreaterThan(0);
  for (const ref of report.evidence) expect(files, `${ref.file}: ${ref.fact}`).toContain(ref.file);
}

describe('real MoE crash routes to debug-cuda-crash', () => {
  it('from all of its files: faulting kernel, exception, upstream root cause, SASS, and the crash commands', async () => {
    const { report, placed } = await routeSources([...SIGNAL, ...NOISE].map((real) => ({ real })), 7);
    expect(report.problemClass).toBe('crash');
    expect(report.nextStep.skill).toBe('debug-cuda-crash');
    expect(report.facts.rule).toBe('cuda-kernel-fault');
    expect(report.facts.faultingKernel).toBe('moe_align_block_size_kernel');
    expect(report.facts.cudaException).toBe('Warp Out-of-range Address');
    expect(report.facts.rootCauseHint).toMatch(/the kernel that produced its index input, one launch upstream/);
    expect(report.facts.upstreamKernel).toBeUndefined(); // no file names the producer
    expect(report.facts.faultingSass).toBe('ATOMS.POPC.INC.32 RZ[R0+URZ]');
    expect(report.facts.mangledSymbol).toBe('_Z27moe_align_block_size_kernelIiEvPKT_Piii');
    expect(report.facts.triggerBatch).toMatchObject({ kind: 'prefill', newTokens: 769 });
    expect(report.evidence.some((e) => e.file === placed['crash.cuda-gdb.txt'] && e.fact.includes('*> ATOMS.POPC.INC.32'))).toBe(true);
    expect(report.evidence.some((e) => e.file === placed['crash.compute-sanitizer.txt'] && e.fact.includes('Invalid __shared__ atomic'))).toBe(true);
    expect(report.evidence.some((e) => e.file === placed['crash.stderr.txt'] && e.fact.includes('CUDBG_EXCEPTION_WARP_OUT_OF_RANGE_ADDRESS'))).toBe(true);
    expectEvidencePointsAtPlacedFiles(report, placed);

    const cmds = report.nextStep.commands.join('\n');
    for (const needle of ['SGLANG_KERNEL_API_LOGLEVEL=10', 'SGLANG_KERNEL_API_LOGDEST=', 'SGLANG_KERNEL_API_DUMP_DIR=', 'SGLANG_CUDA_COREDUMP=1', 'target cudacore', "x/12i $pc", 'compute-sanitizer --tool memcheck', 'triage replay', 'triage route']) {
      expect(cmds).toContain(needle);
    }
    expect(report.nextStep.why).toMatch(/1 names, 3 inputs, 5 statistics, 10 crash-safe dumps/);
  });

  const cases = subsets(SIGNAL).flatMap((files, i) => [
    { files, noise: [] as string[], seed: i },
    { files, noise: [...NOISE], seed: 100 + i },
  ]);
  it.each(cases)('from subset %#: $files (+ $noise)', async ({ files, noise, seed }) => {
    const { report, placed } = await routeSources([...files, ...noise].map((real): Source => ({ real })), seed);
    expect(report.problemClass).toBe('crash');
    expect(report.nextStep.skill).toBe('debug-cuda-crash');
    expect(report.facts.faultingKernel).toBe('moe_align_block_size_kernel');
    expect(report.facts.faultingKernel).toMatch(BARE);
    // The hardware exception name comes from cuda-gdb or the driver's coredump progress; the sanitizer describes the access instead.
    if (files.includes('crash.cuda-gdb.txt') || files.includes('crash.stderr.txt')) expect(report.facts.cudaException).toBe('Warp Out-of-range Address');
    else expect(report.facts.cudaException).toMatch(/Invalid __shared__ atomic.*out of bounds/);
    expect(report.facts.rootCauseHint).toMatch(/one (launch|kernel) upstream/);
    expectEvidencePointsAtPlacedFiles(report, placed);
  });

  it('the noise files alone do not make a crash', async () => {
    const { report } = await routeSources(NOISE.map((real) => ({ real })), 3);
    expect(report.problemClass).not.toBe('crash');
  });

  it('names the routing top-k kernel as the root cause when a file shows it', async () => {
    const kernelLog: Source = {
      name: 'kernel-api.log',
      text: '[2026-11-28 00:55:53 TP0] [kernel_api] launch topkGatingSoftmax grid=(7,1,1) block=(128,1,1) inputs: gating_output[769,128] bf16\n[2026-11-28 00:55:53 TP0] [kernel_api] launch moe_align_block_size_kernel grid=(1,1,1) block=(1024,1,1) inputs: topk_ids[769,8] int32\n',
    };
    const { report, placed } = await routeSources([{ real: 'crash.cuda-gdb.txt' }, kernelLog], 5);
    expect(report.facts.faultingKernel).toBe('moe_align_block_size_kernel');
    expect(report.facts.upstreamKernel).toBe('topkGatingSoftmax');
    expect(report.facts.rootCauseHint).toMatch(/topkGatingSoftmax, one kernel upstream/);
    expect(report.evidence).toContainEqual({ file: placed['kernel-api.log'], fact: expect.stringContaining('topkGatingSoftmax appears here') });
  });

  it('uses the exact crash dump path from the log when the folder has no replay yet', async () => {
    const log: Source = { name: 'server.log', text: '[2026-11-28 00:55:54] Dumped 1 finished and 1 unfinished requests before crash to /data/crash/vm/crash_dump_2026-11-28_00-55-54.pkl\n' };
    const { report } = await routeSources([{ real: 'crash.cuda-gdb.txt' }, log], 9);
    expect(report.facts.crashDump).toBe('/data/crash/vm/crash_dump_2026-11-28_00-55-54.pkl');
    expect(report.nextStep.commands.some((c) => c.includes('cp /data/crash/vm/crash_dump_2026-11-28_00-55-54.pkl'))).toBe(true);
  });
});
