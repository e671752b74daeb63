import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/contracts/report.js';
import { HANG_FILES, routeSources, subsets } from './helpers.js';

const BARE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Files of the real TP hang that can carry a signal; wchan files are noise for the router. */
const SIGNAL = ['hang.stdout.txt', 'rank1.cuda-gdb-attach.txt', 'rank0.cuda-gdb-attach.txt', 'rank1.pystack.txt', 'rank0.pystack.txt', 'hang.nvidia-smi.csv'] as const;
type HangFile = (typeof SIGNAL)[number];

function expectEvidencePointsAtPlacedFiles(report: Report, placed: Record<string, string>): void {
  const files = new Set(Object.values(placed));
  for (const ref of report.evidence) expect(files, `${ref.file}: ${ref.fact}`).toContain(ref.file);
}

describe('real TP hang routes to debug-distributed-hang', () => {
  it('from all of its files: stuck kernel, collective, divergent rank, per-rank last collectives, utilisation, commands', async () => {
    const { report, placed } = await routeSources(HANG_FILES.map((real) => ({ real })), 11);
    expect(report.problemClass).toBe('hang');
    expect(report.nextStep.skill).toBe('debug-distributed-hang');
    expect(report.facts.rule).toBe('collective-hang');
    expect(report.facts.stuckKernel).toBe('ncclDevKernel_AllGather_RING_LL');
    expect(report.facts.collective).toBe('AllGather');
    expect(report.facts.divergentRank).toBe(0);
    expect(report.facts.lastCollectives).toEqual({
      'rank 0': expect.stringMatching(/^AllGather count 4096 \(#2 /),
      'rank 1': expect.stringMatching(/^AllGather count 4096 \(#3 /),
    });
    expect(report.facts.gpuUtilisation).toEqual({ 0: 0, 1: 100 });
    expect(report.facts.stuckProcesses).toEqual(['rank 1 (pid 930)']);
    expect(report.facts.triggerBatch).toMatchObject({ kind: 'prefill', newTokens: 769 });
    expect(report.evidence).toContainEqual({ file: placed['hang.stdout.txt'], fact: expect.stringContaining('rank(s) 0 never issued AllGather') });
    expect(report.evidence).toContainEqual({ file: placed['rank1.cuda-gdb-attach.txt'], fact: expect.stringContaining('cuEventSynchronize ← cudaEventSynchronize') });
    expect(report.evidence).toContainEqual({ file: placed['rank0.pystack.txt'], fact: expect.stringContaining('rank 0 (pid 929)') });
    expect(report.evidence).toContainEqual({ file: placed['hang.nvidia-smi.csv'], fact: expect.stringContaining('utilisation asymmetry') });
    expect(report.evidence).toContainEqual({ file: placed['hang.stdout.txt'], fact: expect.stringContaining('late attach') });
    expectEvidencePointsAtPlacedFiles(report, placed);

    const cmds = report.nextStep.commands;
    const all = cmds.join('\n');
    for (const needle of ['NCCL_DEBUG=INFO', 'NCCL_DEBUG_SUBSYS=COLL', 'NCCL_DEBUG_FILE=', 'CUDA_ENABLE_USER_TRIGGERED_COREDUMP=1', 'CUDA_COREDUMP_PIPE=', 'py-spy dump --native', 'nvidia-smi --query-gpu', 'triage replay']) {
      expect(all).toContain(needle);
    }
    // Measured on H200: a user-triggered coredump aborts the process, and an attach disables the coredump.
    // So: stacks first, then the attach; the all-ranks coredump is named (hangEvidence: coredump), never printed as a line to paste.
    const pySpy = cmds.findIndex((c) => c.includes('py-spy dump'));
    const attach = cmds.findIndex((c) => c.includes('cuda-gdb -p'));
    expect(pySpy).toBeGreaterThanOrEqual(0);
    expect(attach).toBeGreaterThan(pySpy);
    expect(cmds.some((c) => c.includes('printf 1'))).toBe(false);
    expect(cmds.find((c) => c.includes('hangEvidence: coredump'))!.startsWith('#')).toBe(true);
    expect(report.nextStep.why).toMatch(/ends? the process|aborts/i);
  });

  const cases = subsets(SIGNAL).map((files, i) => ({ files, seed: 200 + i }));
  it.each(cases)('from subset %#: $files', async ({ files, seed }) => {
    const has = (f: HangFile): boolean => (files as readonly string[]).includes(f);
    const { report, placed } = await routeSources(files.map((real) => ({ real })), seed);
    expectEvidencePointsAtPlacedFiles(report, placed);
    for (const k of ['stuckKernel', 'faultingKernel'] as const) if (report.facts[k] !== undefined) expect(report.facts[k]).toMatch(BARE);

    if (has('hang.stdout.txt') || has('rank1.cuda-gdb-attach.txt')) {
      // A collective is in sight: the NCCL COLL log, or a live NCCL kernel.
      expect(report.problemClass).toBe('hang');
      expect(report.nextStep.skill).toBe('debug-distributed-hang');
      expect(report.facts.collective).toBe('AllGather');
      if (has('rank1.cuda-gdb-attach.txt')) expect(report.facts.stuckKernel).toBe('ncclDevKernel_AllGather_RING_LL');
      else expect(report.facts.stuckKernel).toBeUndefined();
      if (has('hang.stdout.txt')) expect(report.facts.divergentRank).toBe(0);
      else if (has('rank0.cuda-gdb-attach.txt')) expect(report.facts.divergentPids).toEqual([929]); // rank unknown without the NCCL log
      else expect(report.facts.divergentRank).toBeUndefined();
    } else if (has('rank1.pystack.txt') || has('hang.nvidia-smi.csv')) {
      // A stall with no collective in sight: hang, collect what would show it.
      expect(report.problemClass).toBe('hang');
      expect(report.facts.rule).toBe('scheduler-stall');
      expect(report.nextStep.skill).toBe('collect-more');
      expect(report.nextStep.commands.join('\n')).toMatch(/py-spy dump --native[\s\S]*cuda-gdb -p/);
    } else {
      // rank 0 alone is an idle process: no hang signal.
      expect(report.problemClass).toBe('unknown');
    }
  });

  it('the wchan files alone carry nothing', async () => {
    const { report } = await routeSources([{ real: 'rank0.wchan.txt' }, { real: 'rank1.wchan.txt' }], 4);
    expect(report.problemClass).toBe('unknown');
  });
});
