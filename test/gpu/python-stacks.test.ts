import { describe, expect, it } from 'vitest';
import { mainThreadOf, parsePythonStacks } from '../../src/evidence/gpu/python-stacks-parse.js';
import { stallPointOf } from '../../src/evidence/gpu/python-stall.js';
import { handmade, real } from './helpers.js';

describe('faulthandler dumps (real H200 recordings)', () => {
  it('rank 1: one current thread parked in synchronize inside process_batch_result_prefill', async () => {
    const s = parsePythonStacks(await real('rank1.pystack.txt'));
    expect(s.processes).toHaveLength(1);
    const p = s.processes[0]!;
    expect(p.source).toBe('faulthandler');
    expect(p.threads).toHaveLength(1);
    const main = mainThreadOf(p)!;
    expect(main).toMatchObject({ id: '0x00007f16721d4140', current: true, status: 'unknown' });
    expect(main.frames[0]).toEqual({ function: 'synchronize', file: '/opt/torch/.venv/lib/python3.12/site-packages/torch/cuda/streams.py', line: 254, native: false });
    const stall = stallPointOf(main);
    expect(stall).toMatchObject({ kind: 'device-sync', schedulerLoop: 'event_loop_overlap', schedulerStep: 'process_batch_result_prefill' });
    expect(stall.chain.slice(0, 4)).toEqual(['synchronize', 'process_batch_result_prefill', 'process_batch_result', 'event_loop_overlap']);
  });

  it('rank 0: idle in recv_requests', async () => {
    const s = parsePythonStacks(await real('rank0.pystack.txt'));
    expect(stallPointOf(mainThreadOf(s.processes[0]!)!)).toMatchObject({ kind: 'idle', schedulerStep: 'recv_requests' });
  });

  it('splits repeated faulthandler dumps of the same threads into snapshots', async () => {
    const once = await real('rank1.pystack.txt');
    const s = parsePythonStacks(`${once}\n${once}`);
    expect(s.processes).toHaveLength(2);
  });
});

describe('py-spy dump (hand-made)', () => {
  it('--native: process title gives the rank; native and Python frames; thread status', async () => {
    const s = parsePythonStacks(await handmade('pyspy-native-tp1.txt'));
    expect(s.processes).toHaveLength(1);
    const p = s.processes[0]!;
    expect(p).toMatchObject({ source: 'py-spy', pid: 48213, command: 'sglang::scheduler_TP1', native: true });
    expect(p.rank).toMatchObject({ label: 'TP1', tp: 1 });
    expect(p.threads.map((t) => [t.name, t.status])).toEqual([
      ['MainThread', 'active'],
      ['Thread-1 (_read_thread)', 'idle'],
      ['Thread-2 (_watchdog_thread)', 'idle'],
    ]);
    const main = mainThreadOf(p)!;
    expect(main.frames[2]).toMatchObject({ function: 'cuEventSynchronize', file: 'libcuda.so.1', native: true });
    expect(main.frames[5]).toMatchObject({ function: 'THCPEvent_synchronize', native: true, line: 165 });
    expect(main.frames[6]).toMatchObject({ function: 'synchronize', file: 'torch/cuda/streams.py', line: 225, native: false });
    expect(stallPointOf(main)).toMatchObject({ kind: 'device-sync', schedulerStep: 'process_batch_result_prefill', schedulerLoop: 'event_loop_overlap' });
  });

  it('without --native: idle scheduler', async () => {
    const s = parsePythonStacks(await handmade('pyspy-plain-tp0.txt'));
    const p = s.processes[0]!;
    expect(p.native).toBe(false);
    expect(stallPointOf(mainThreadOf(p)!)).toMatchObject({ kind: 'idle' });
  });

  it('a scheduler inside a collective wrapper is a collective stall', async () => {
    const s = parsePythonStacks(await handmade('pyspy-allreduce-tp2.txt'));
    const main = mainThreadOf(s.processes[0]!)!;
    expect(main).toMatchObject({ status: 'active', gil: true });
    expect(stallPointOf(main)).toMatchObject({ kind: 'collective', collective: 'AllReduce', schedulerStep: 'forward_extend', schedulerLoop: 'event_loop_normal' });
  });

  it('a non-zero TP rank waiting for requests in broadcast_pyobj is idle, not in a collective', () => {
    const s = parsePythonStacks('Process 7: sglang::scheduler_TP3\n\nThread 7 (idle): "MainThread"\n    broadcast (torch/distributed/distributed_c10d.py:2690)\n    broadcast_pyobj (sglang/srt/utils.py:1003)\n    recv_requests (sglang/srt/managers/scheduler.py:1190)\n    event_loop_normal (sglang/srt/managers/scheduler.py:958)\n');
    expect(stallPointOf(mainThreadOf(s.processes[0]!)!).kind).toBe('idle');
  });
});

describe('SGLang watchdog dump inside a server log (hand-made)', () => {
  it('takes the py-spy block after "Pyspy dump for PID" and stops at the next log record', async () => {
    const s = parsePythonStacks(await handmade('watchdog-single-rank.log'));
    expect(s.processes).toHaveLength(1);
    const p = s.processes[0]!;
    expect(p).toMatchObject({ source: 'watchdog', pid: 4242, command: 'sglang::scheduler_TP0', native: true });
    expect(p.rank?.label).toBe('TP0');
    expect(p.threads).toHaveLength(2);
    expect(stallPointOf(mainThreadOf(p)!).kind).toBe('device-sync');
  });

  it('keeps py-spy failures as problems', () => {
    const s = parsePythonStacks('[2026-01-01 00:00:00 TP0] Pyspy failed (py-spy dump --native --pid 5). Error: Permission Denied\n[2026-01-01 00:00:00 TP0] All pyspy dump attempts failed for PID 5.\n');
    expect(s.processes).toHaveLength(0);
    expect(s.problems).toHaveLength(2);
  });
});
