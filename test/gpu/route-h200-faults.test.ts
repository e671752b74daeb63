/**
 * The real single-GPU H200 fault recordings (test/fixtures/gpu-h200-faults, see its README), each routed
 * unchanged, under a random name in a random folder: class, skill and the key fact.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCoredumps } from '../../src/evidence/collect/coredump-find.js';
import type { Report } from '../../src/contracts/report.js';
import { REPO_ROOT, routeFolder, routeSources } from './helpers.js';

const FAULTS = path.join(REPO_ROOT, 'test/fixtures/gpu-h200-faults');
const rec = async (...names: string[]): Promise<Report> =>
  (await routeSources(await Promise.all(names.map(async (n) => ({ name: n, text: await readFile(path.join(FAULTS, n)) }))), names.length * 7)).report;
const BARE = /^[A-Za-z_][A-Za-z0-9_]*$/;

describe('real H200 faults: crashes', () => {
  it('trap: cuda-gdb "Program terminated with signal SIGTRAP", no CUDA Exception line → crash, debug-cuda-crash, the kernel', async () => {
    const r = await rec('trap.cuda-gdb.txt');
    expect([r.problemClass, r.nextStep.skill]).toEqual(['crash', 'debug-cuda-crash']);
    expect(r.facts).toMatchObject({ faultingKernel: 'nan_guard_softmax_kernel', signal: 'SIGTRAP', cudaException: 'SIGTRAP (Trace/breakpoint trap)' });
  });

  it('trap: the driver progress alone (no exception line) points at the coredump it wrote, to open with cuda-gdb', async () => {
    const r = await rec('trap.stderr.txt');
    expect([r.problemClass, r.nextStep.skill]).toEqual(['unknown', 'collect-more']);
    expect(r.facts.coredump).toBe('/tmp/gf-cores/trap.core.vm.614.1796143082');
    expect(r.nextStep.commands[0]).toContain('target cudacore /tmp/gf-cores/trap.core.vm.614.1796143082');
  });

  it('trap: the real core is found by content under any name, by scan and by findCoredumps', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'h200-trap-'));
    try {
      execFileSync('tar', ['-xJf', path.join(FAULTS, 'trap.cuda-coredump.tar.xz'), '-C', dir]);
      const found = await findCoredumps({ dirs: [dir], signal: new AbortController().signal });
      expect(found).toHaveLength(1);
      expect(found[0]!.cudaSections).toBeGreaterThan(0);
      const r = await routeFolder(dir);
      expect(r.facts).toMatchObject({ rule: 'cuda-coredump-unread', coredump: found[0]!.file });
      expect(r.nextStep.commands[0]).toContain('target cudacore');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['misaligned.cuda-gdb.txt', { faultingKernel: 'dequant_int4_rows_kernel', cudaException: 'Warp Misaligned Address', faultLocatedBy: 'debugger' }],
    ['misaligned.stderr.txt', { faultingKernel: 'dequant_int4_rows_kernel', cudaException: 'Warp Misaligned Address', faultLocatedBy: 'driver' }],
    ['oob.cuda-gdb.txt', { faultingKernel: 'merge_attn_states_kernel', deviceFunction: 'store_partial_lse', cudaException: 'Warp Invalid Address Space' }],
    ['oob.stderr.txt', { faultingKernel: 'merge_attn_states_kernel', cudaException: 'Warp Invalid Address Space' }],
    ['oob.memcheck.txt', { faultingKernel: 'merge_attn_states_kernel', deviceFunction: 'store_partial_lse', faultLocatedBy: 'sanitizer' }],
    ['extra/syncwarp.synccheck.txt', { faultingKernel: 'warp_reduce_bad_mask_kernel', deviceFunction: '__syncwarp', faultLocatedBy: 'sanitizer' }],
  ] as const)('%s → crash, debug-cuda-crash, %o', async (file, facts) => {
    const r = await rec(file);
    expect([r.problemClass, r.nextStep.skill]).toEqual(['crash', 'debug-cuda-crash']);
    expect(r.facts).toMatchObject(facts);
    expect(r.facts.faultingKernel).toMatch(BARE);
  });

  it('CUDA OOM in a PyTorch forward → crash (never hang), fix-at-traceback, with the size it tried', async () => {
    const r = await rec('oom.stderr.txt');
    expect([r.problemClass, r.nextStep.skill]).toEqual(['crash', 'fix-at-traceback']);
    expect(r.facts).toMatchObject({ rule: 'gpu-oom', triedToAllocate: '512.00 GiB' });
  });
});

describe('real H200 faults: wrong output and clean runs', () => {
  it('racecheck shared-memory race → wrong-output, debug-cuda-crash, the racing kernel', async () => {
    const r = await rec('race.racecheck.txt');
    expect([r.problemClass, r.nextStep.skill]).toEqual(['wrong-output', 'debug-cuda-crash']);
    expect(r.facts).toMatchObject({ racyKernel: 'rmsnorm_tile_reduce_kernel', hazards: 262144 });
  });

  it('initcheck uninitialised reads → wrong-output, debug-cuda-crash, the kernel', async () => {
    const r = await rec('uninit.initcheck.txt');
    expect([r.problemClass, r.nextStep.skill]).toEqual(['wrong-output', 'debug-cuda-crash']);
    expect(r.facts).toMatchObject({ uninitializedReadKernel: 'rope_cos_sin_cache_kernel' });
  });

  it('a clean synccheck run (0 errors) raises no fault', async () => {
    const r = await rec('barrier.synccheck.txt');
    expect(r.problemClass).toBe('unknown');
    expect(r.facts.faultingKernel).toBeUndefined();
  });
});

describe('real H200 faults: single-GPU hangs (no collective)', () => {
  const HANG = ['hang.stdout.txt', 'hang.smi-query.csv', 'hang.nvidia-smi.txt', 'hang.pystack.txt', 'hang.wchan.txt', 'hang.cuda-gdb-attach.txt', 'hang.smi-after-attach.csv'];

  it('attach (live kernel, cudaDeviceSynchronize) + 100 % GPU + stacks → hang, stuckKernel wait_kv_transfer_done', async () => {
    const r = await rec(...HANG);
    expect([r.problemClass, r.nextStep.skill]).toEqual(['hang', 'debug-distributed-hang']);
    expect(r.facts).toMatchObject({ rule: 'stuck-kernel', stuckKernel: 'wait_kv_transfer_done', hostWait: 'cudaDeviceSynchronize', collectiveInvolved: false, gpuUtilisation: { 0: 100 } });
    expect(r.facts.collective).toBeUndefined();
  });

  it('the attach transcript alone names the stuck kernel', async () => {
    const r = await rec('hang.cuda-gdb-attach.txt');
    expect(r.facts).toMatchObject({ stuckKernel: 'wait_kv_transfer_done', stuckPid: 993 });
  });

  it('cuda-gdb on the user-triggered core (no exception, no signal) → hang, stuckKernel', async () => {
    const r = await rec('hang.cuda-gdb.txt');
    expect(r.problemClass).toBe('hang');
    expect(r.facts).toMatchObject({ stuckKernel: 'wait_kv_transfer_done', seenBy: 'coredump' });
  });

  it('the driver line of the user-triggered coredump names the core path', async () => {
    const r = await rec('hang-usercore.stdout.txt');
    expect(r.facts.coredump).toBe('/tmp/gf-cores/hang.core.vm.1141.1796143122');
  });

  it('stream-synchronize hang: attach + smi + stacks → hang, stuckKernel poll_remote_prefill_done', async () => {
    const r = await rec('extra/hang-stream.stdout.txt', 'extra/hang-stream.smi-query.csv', 'extra/hang-stream.pystack.txt', 'extra/hang-stream.cuda-gdb-attach.txt');
    expect([r.problemClass, r.nextStep.skill]).toEqual(['hang', 'debug-distributed-hang']);
    expect(r.facts).toMatchObject({ stuckKernel: 'poll_remote_prefill_done', hostWait: 'cuStreamSynchronize' });
  });

  it('faulthandler in synchronize + a busy GPU, no debugger → hang, collect the kernel next', async () => {
    const r = await rec('extra/hang-stream.pystack.txt', 'extra/hang-stream.smi-query.csv');
    expect([r.problemClass, r.nextStep.skill]).toEqual(['hang', 'collect-more']);
    expect(r.facts.stallPoint).toMatch(/device-sync at synchronize/);
  });
});
