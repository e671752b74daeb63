import { describe, expect, it } from 'vitest';
import { handmade, routeSources, type Source } from './helpers.js';

const hm = (...names: string[]): Source[] => names.map((handmade) => ({ handmade }));

describe('routes of other GPU incidents (hand-made fixtures)', () => {
  it('OOM → crash with the capacity knobs, never a hang, even with a peer rank stuck in NCCL', async () => {
    const { report, placed } = await routeSources([...hm('oom-tp2.log'), { real: 'hang.stdout.txt' }], 21);
    expect(report.problemClass).toBe('crash');
    expect(report.facts.rule).toBe('gpu-oom');
    expect(report.facts.triedToAllocate).toBe('9.77 GiB');
    expect(report.facts.oomRank).toBe('TP1');
    // --cuda-graph-max-bs is a deprecated alias in server_args.py: the knob is the -decode flag.
    expect(report.facts.capacityKnobs).toEqual(['--chunked-prefill-size', '--mem-fraction-static', '--max-running-requests', '--max-total-tokens', '--cuda-graph-max-bs-decode']);
    const cmds = report.nextStep.commands.join('\n');
    for (const knob of ['--mem-fraction-static', '--max-running-requests', '--chunked-prefill-size', '--max-total-tokens', '--cuda-graph-max-bs-decode']) expect(cmds).toContain(knob);
    expect(cmds).not.toMatch(/--cuda-graph-max-bs(?!-)/);
    expect(report.evidence[0]).toEqual({ file: placed['oom-tp2.log'], fact: expect.stringContaining('torch.OutOfMemoryError') });
    expect(report.checked.some((c) => c.startsWith('also seen (hang'))).toBe(true);
  });

  it('CPU-side scheduler exception on a single-rank server → fix-at-traceback, replayed with production flags (no --debug-mode)', async () => {
    const { report } = await routeSources(hm('cpu-exception-single-rank.log'), 22);
    expect(report.problemClass).toBe('crash');
    expect(report.nextStep.skill).toBe('fix-at-traceback');
    expect(report.facts).toMatchObject({ exceptionType: 'IndexError', singleRank: true, exceptionFrame: expect.stringContaining('process_batch_result_decode') });
    expect(report.nextStep.why).toContain('process_batch_result_decode');
    expect(report.nextStep.commands.join('\n')).not.toContain('--debug-mode');
    expect(report.nextStep.commands.some((c) => c.startsWith('triage replay'))).toBe(true);
  });

  it('hardware Xid → crash, collect the driver view, not a kernel bug', async () => {
    const { report } = await routeSources(hm('xid-79.log'), 23);
    expect(report.problemClass).toBe('crash');
    expect(report.facts).toMatchObject({ rule: 'gpu-hardware-xid', xid: 79 });
    expect(report.nextStep.skill).toBe('collect-more');
  });

  it('scheduler watchdog with a py-spy dump in synchronize, single rank → hang, collect more', async () => {
    const { report, placed } = await routeSources(hm('watchdog-single-rank.log'), 24);
    expect(report.problemClass).toBe('hang');
    expect(report.facts.rule).toBe('scheduler-stall');
    expect(report.strongestSignal).toMatch(/watchdog/);
    expect(report.facts.stallPoint).toMatch(/device-sync at cuEventSynchronize .*synchronize ← process_batch_result_prefill/);
    expect(report.nextStep.skill).toBe('collect-more');
    expect(report.evidence.every((e) => e.file === placed['watchdog-single-rank.log'])).toBe(true);
  });

  it('py-spy: one rank in all_reduce, its peer idle → collective hang, the idle rank diverged', async () => {
    const { report } = await routeSources(hm('pyspy-allreduce-tp2.txt', 'pyspy-plain-tp0.txt'), 25);
    expect(report.problemClass).toBe('hang');
    expect(report.nextStep.skill).toBe('debug-distributed-hang');
    expect(report.facts).toMatchObject({ collective: 'AllReduce', divergentRank: 0 });
  });

  it('torch NCCL watchdog on 4 ranks → the rank with the lowest enqueued work diverged', async () => {
    const { report } = await routeSources(hm('torch-nccl-watchdog-4ranks.log', 'nvidia-smi-4gpu-busy.txt'), 26);
    expect(report.problemClass).toBe('hang');
    expect(report.facts).toMatchObject({ rule: 'collective-hang', collective: 'AllReduce', divergentRank: 2, gpuUtilisation: { 0: 100, 1: 100, 2: 0, 3: 100 } });
  });

  it('NCCL count mismatch with init-line rank mapping → divergent rank from the init lines', async () => {
    const { report } = await routeSources(hm('nccl-init-mismatch.log'), 27);
    expect(report.problemClass).toBe('hang');
    expect(report.facts).toMatchObject({ collective: 'AllReduce', divergentRank: 2, firstDivergence: { index: 3, kind: 'mismatch' } });
  });

  it('device-side assert → crash in the asserting kernel, producer upstream', async () => {
    const { report } = await routeSources(hm('device-assert.log'), 28);
    expect(report.problemClass).toBe('crash');
    expect(report.nextStep.skill).toBe('debug-cuda-crash');
    expect(report.facts).toMatchObject({ faultingKernel: 'indexSelectSmallIndex', cudaException: 'Warp Assert' });
    expect(report.facts.rootCauseHint).toMatch(/one kernel upstream/);
  });

  it.each([
    ['cuda-gdb-live-illegal-address.txt', 'indexSelectLargeIndex', 'Warp Illegal Address', /one launch upstream/],
    ['cuda-gdb-core-warp-assert.txt', 'topk_sample_kernel', 'Warp Assert', /upstream/],
    ['cuda-gdb-core-misaligned.txt', 'fp8_quant_pack_kernel', 'Warp Misaligned Address', /misaligned/],
    ['memcheck-global-read.txt', 'BatchPrefillWithPagedKVCacheKernel', /Invalid __global__ read/, /kv_indices/],
  ])('%s → crash in %s', async (file, kernel, exception, hint) => {
    const { report } = await routeSources(hm(file), 29);
    expect(report.problemClass).toBe('crash');
    expect(report.nextStep.skill).toBe('debug-cuda-crash');
    expect(report.facts.faultingKernel).toBe(kernel);
    if (typeof exception === 'string') expect(report.facts.cudaException).toBe(exception);
    else expect(report.facts.cudaException).toMatch(exception);
    expect(report.facts.rootCauseHint).toMatch(hint);
  });

  it('an unknown kernel: the index-like parameter the debugger printed is named as the input to trace upstream', async () => {
    const text = [
      'Opening GPU coredump: /cores/cuda_coredump_h.1.2',
      '[Current focus set to CUDA kernel 0, grid 3, block (5,0,0), thread (0,0,0), device 0, sm 1, warp 0, lane 0]',
      'CUDA Exception: Warp Illegal Address',
      'The exception was triggered at PC 0x7f0000001230  gather_rows_kernel  (g.cu:9)',
      '#0  0x00007f0000001230 in gather_rows_kernel<<<(12,1,1),(64,1,1)>>> (table=0x7f1000, row_ids=0x7f2000, out=0x7f3000, n=12) at g.cu:9',
    ].join('\n');
    const { report } = await routeSources([{ name: 'gdb', text }], 33);
    expect(report.facts.faultingKernel).toBe('gather_rows_kernel');
    expect(report.facts.rootCauseHint).toMatch(/index-like input is row_ids.*the kernel that produced its index input, one launch upstream/);
  });

  it('Warp Illegal Instruction: the faulting kernel itself is the suspect, not its producer', async () => {
    const text = 'Opening GPU coredump: /cores/c\nCUDA Exception: Warp Illegal Instruction\nThe exception was triggered at PC 0x7f01  _Z12fused_kernelPf  (f.cu:3)\n';
    const { report } = await routeSources([{ name: 'gdb', text }], 34);
    expect(report.facts).toMatchObject({ faultingKernel: 'fused_kernel', cudaException: 'Warp Illegal Instruction' });
    expect(report.facts.rootCauseHint).toMatch(/fused_kernel itself is the first suspect/);
  });

  it('a CPU exception on one rank of a TP server explains its peers stuck in NCCL: crash, not hang', async () => {
    const text = (await handmade('cpu-exception-single-rank.log')).replace(/\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) TP0\] Scheduler hit/, '[$1 TP1] Scheduler hit') + '[2026-08-30 16:41:17 TP1] Decode batch, #running-req: 1, #token: 97, token usage: 0.01, cuda graph: True, gen throughput (token/s): 95.40, #queue-req: 0\n';
    const { report } = await routeSources([{ name: 'server.log', text }, { real: 'hang.stdout.txt' }, { real: 'rank1.cuda-gdb-attach.txt' }], 35);
    expect(report.problemClass).toBe('crash');
    expect(report.nextStep.skill).toBe('fix-at-traceback');
    expect(report.facts).toMatchObject({ exceptionType: 'IndexError', singleRank: false, exceptionRank: 'TP1' });
    expect(report.checked.some((c) => c.startsWith('also seen (hang'))).toBe(true);
  });

  it('racecheck hazards alone → a kernel race (wrong output), kernel-level debugging', async () => {
    const { report } = await routeSources(hm('racecheck.txt'), 30);
    expect(report.problemClass).toBe('wrong-output');
    expect(report.facts).toMatchObject({ rule: 'kernel-race', racyKernel: 'block_reduce_sum', hazards: 1024 });
  });

  it('a raw CUDA coredump nobody opened → read it with cuda-gdb first', async () => {
    const head = Buffer.alloc(4096);
    head.write('\u007fELF', 0, 'latin1');
    head[4] = 2;
    head[5] = 1;
    head[7] = 0x33;
    head.writeUInt16LE(4, 16);
    head.writeUInt16LE(190, 18);
    const { report } = await routeSources([{ name: 'core', text: head }], 31);
    expect(report.facts.rule).toBe('cuda-coredump-unread');
    expect(report.nextStep.commands[0]).toMatch(/^cuda-gdb -batch .*target cudacore /);
  });

  it('a live NCCL kernel plus a located GPU fault: the fault wins', async () => {
    const { report } = await routeSources([{ real: 'crash.cuda-gdb.txt' }, { real: 'rank1.cuda-gdb-attach.txt' }], 32);
    expect(report.problemClass).toBe('crash');
    expect(report.facts.faultingKernel).toBe('moe_align_block_size_kernel');
  });
});
