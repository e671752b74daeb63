import { describe, expect, it } from 'vitest';
import { parseServerLog } from '../../src/evidence/gpu/server-log-parse.js';
import { handmade, real } from './helpers.js';

describe('server logs (real H200 recordings)', () => {
  it('crash stderr: batch shapes up to the 769-token trigger; driver progress is not a CUDA error line', async () => {
    const log = parseServerLog(await real('crash.stderr.txt'));
    expect(log.batches.map((b) => b.newToken)).toEqual([5, 12, 769]);
    expect(log.batches[2]).toMatchObject({ kind: 'prefill', newSeq: 1, newToken: 769, cachedToken: 0, line: 5 });
    expect(log.cudaErrors).toEqual([]);
    expect(log.tracebacks).toEqual([]);
  });

  it('hang stdout: [TPn] prefixes give ranks; the late-attach coredump notes are kept', async () => {
    const log = parseServerLog(await real('hang.stdout.txt'));
    expect(log.ranks).toEqual(['TP0', 'TP1']);
    expect(log.batches.filter((b) => b.rank?.tp === 1).map((b) => b.newToken)).toEqual([5, 12, 769]);
    expect(log.coredumpNotes).toHaveLength(2);
    expect(log.coredumpNotes[0]?.text).toContain('not supported with late attach');
  });

  it('program output under compute-sanitizer: CUDA error lines and the torch traceback', async () => {
    const log = parseServerLog(await real('crash.compute-sanitizer.txt'));
    expect(log.cudaErrors.map((e) => e.kind)).toEqual(['launch-failure', 'launch-failure', 'launch-failure']);
    expect(log.cudaErrors[0]?.message).toBe('unspecified launch failure');
    expect(log.tracebacks).toHaveLength(1);
    expect(log.tracebacks[0]).toMatchObject({ exceptionType: 'torch.AcceleratorError', cls: 'cuda' });
    expect(log.tracebacks[0]?.message.split('\n')[0]).toBe('CUDA error: unspecified launch failure');
    expect(log.tracebacks[0]?.frames.map((f) => f.function)).toEqual(['<module>', 'main', 'forward_extend', 'synchronize']);
  });
});

describe('server logs (hand-made)', () => {
  it('watchdog, SIGQUIT and crash-dump lines of a single-rank server', async () => {
    const log = parseServerLog(await handmade('watchdog-single-rank.log'));
    expect(log.ready).toBe(true);
    expect(log.ranks).toEqual(['TP0']);
    expect(log.watchdogTimeouts).toEqual([expect.objectContaining({ who: 'scheduler', timeoutS: 300, soft: false })]);
    expect(log.childFailures).toHaveLength(1);
    expect(log.crashDumps).toEqual([{ line: 28, finished: 14, unfinished: 2, path: '/data/crash/node-a/crash_dump_2026-10-02_09-20-18.pkl' }]);
    expect(log.batches.at(-1)).toMatchObject({ kind: 'prefill', newToken: 3001, cachedToken: 128 });
    expect(log.batches[1]).toMatchObject({ kind: 'decode', runningReq: 1, queueReq: 0, tokenUsage: 0.02 });
  });

  it('OOM with allocation details, its traceback, and the peer rank NCCL watchdog', async () => {
    const log = parseServerLog(await handmade('oom-tp2.log'));
    expect(log.oom).toHaveLength(1);
    expect(log.oom[0]).toMatchObject({ triedToAllocate: '9.77 GiB', gpu: 1, capacity: '79.10 GiB', free: '3.12 GiB', startup: false });
    expect(log.tracebacks[0]).toMatchObject({ exceptionType: 'torch.OutOfMemoryError', cls: 'oom' });
    expect(log.tracebacks[0]?.rank?.label).toBe('TP1');
    expect(log.tracebacks[0]?.header).toContain('Scheduler hit an exception');
    expect(log.ncclWatchdog).toEqual([
      expect.objectContaining({ torchRank: 0, seqNum: 88211, opType: 'ALLREDUCE', timeoutMs: 600000, ranForMs: 600043 }),
      expect.objectContaining({ torchRank: 0, lastEnqueued: 88211, lastCompleted: 88210 }),
    ]);
  });

  it('a CPU-side scheduler exception', async () => {
    const log = parseServerLog(await handmade('cpu-exception-single-rank.log'));
    expect(log.tracebacks).toHaveLength(1);
    expect(log.tracebacks[0]).toMatchObject({ exceptionType: 'IndexError', message: 'list index out of range', cls: 'cpu' });
    expect(log.tracebacks[0]?.frames.at(-1)?.function).toBe('process_batch_result_decode');
    expect(log.cudaErrors).toEqual([]);
  });

  it('Xid lines', async () => {
    const log = parseServerLog(await handmade('xid-79.log'));
    expect(log.xids).toEqual([expect.objectContaining({ pci: '0000:9d:00', code: 79, detail: "pid='<unknown>', name=<unknown>, GPU has fallen off the bus." })]);
    expect(log.cudaErrors[0]?.kind).toBe('launch-failure');
  });

  it('device-side assertions with kernel function, block and thread', async () => {
    const log = parseServerLog(await handmade('device-assert.log'));
    expect(log.deviceAsserts).toHaveLength(2);
    expect(log.deviceAsserts[0]).toMatchObject({ file: '/pytorch/aten/src/ATen/native/cuda/Indexing.cu', function: 'indexSelectSmallIndex', block: '(0,0,0)', thread: '(7,0,0)', condition: 'srcIndex < srcSelectDimSize' });
    expect(log.cudaErrors.map((e) => e.kind)).toEqual(['device-assert']);
  });

  it('torch NCCL watchdog on 4 ranks', async () => {
    const log = parseServerLog(await handmade('torch-nccl-watchdog-4ranks.log'));
    expect(log.ncclWatchdog.filter((w) => w.lastEnqueued !== undefined).map((w) => [w.torchRank, w.lastEnqueued])).toEqual([
      [0, 120555],
      [1, 120555],
      [2, 120553],
      [3, 120555],
    ]);
  });

  it('startup OOM, CUDA error spellings and the readiness marker', () => {
    const log = parseServerLog(
      [
        '[2026-01-01 00:00:00 TP0] RuntimeError: Not enough memory. Please try to increase --mem-fraction-static.',
        'RuntimeError: Triton Error [CUDA]: an illegal memory access was encountered',
        'misc/ring.cc:110 NCCL WARN Cuda failure \'an illegal memory access was encountered\'',
        'CUDA_ERROR_ILLEGAL_ADDRESS at kernel launch',
        'Search for `cudaErrorLaunchFailure\' in https://docs.nvidia.com/cuda for more information.',
      ].join('\n'),
    );
    expect(log.oom[0]?.startup).toBe(true);
    expect(log.cudaErrors.map((e) => e.kind)).toEqual(['illegal-address', 'illegal-address', 'illegal-address']);
    expect(log.ncclErrors).toHaveLength(1);
  });
});
