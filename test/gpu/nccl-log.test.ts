import { describe, expect, it } from 'vitest';
import { readNcclText } from '../../src/evidence/gpu/nccl-log.js';
import { handmade, real } from './helpers.js';

describe('NCCL COLL log (real H200 hang recording)', () => {
  it('rebuilds per-rank AllGather sequences and finds rank 0 missing the third one', async () => {
    const e = readNcclText(await real('hang.stdout.txt'));
    expect(e.version).toBe('2.28.9+cuda13.0');
    expect(Object.keys(e.processes).sort()).toEqual(['vm:929', 'vm:930']);
    expect(e.processes['vm:929']?.calls).toHaveLength(2);
    expect(e.processes['vm:930']?.calls).toHaveLength(3);
    expect(e.processes['vm:930']?.calls[0]).toMatchObject({ op: 'AllGather', opCount: '0', count: 4096, datatype: 7, redOp: 0, root: 0, comm: '0x231d99d0', nranks: 2 });
    // The bracket is the CUDA device; with no init lines and one GPU per process it stands in for the rank.
    expect(e.analysis.rankOfProcess).toEqual({ 'vm:929': 0, 'vm:930': 1 });
    expect(e.analysis.rankSource).toBe('cudaDev');
    expect(e.analysis.groups).toHaveLength(1);
    const d = e.analysis.divergences[0]!;
    expect(d).toMatchObject({ index: 2, kind: 'missing', divergentRanks: [0], op: 'AllGather', expected: 'AllGather count 4096 datatype 7', ambiguous: false, nranks: 2 });
    expect(d.perRank).toEqual([
      expect.objectContaining({ rank: 0, pid: 929, total: 2, callAtIndex: null }),
      expect.objectContaining({ rank: 1, pid: 930, total: 3, callAtIndex: 'AllGather count 4096 datatype 7' }),
    ]);
  });

  it('ignores the interleaved [TPn] batch lines and driver notes', async () => {
    const e = readNcclText(await real('hang.stdout.txt'));
    expect(e.lineCount).toBe(7);
  });
});

describe('NCCL log with init lines (hand-made)', () => {
  it('maps ranks from Init COMPLETE even when every process prints [0], and finds the count mismatch', async () => {
    const e = readNcclText(await handmade('nccl-init-mismatch.log'));
    expect(e.analysis.rankSource).toBe('init');
    expect(e.analysis.rankOfProcess).toEqual({ 'gpu-node-3:7101': 2, 'gpu-node-3:7102': 0, 'gpu-node-3:7103': 1 });
    expect(e.analysis.groups[0]?.id).toBe('0x9b1f33a0c2d4e871');
    const d = e.analysis.divergences[0]!;
    expect(d).toMatchObject({ index: 2, kind: 'mismatch', divergentRanks: [2], expected: 'AllReduce count 8192 datatype 9', ambiguous: false });
  });

  it('without init lines and with the same device everywhere, falls back to process order', () => {
    const line = (pid: number, count: number) => `h:${pid}:${pid} [0] NCCL INFO AllReduce: opCount 0 sendbuff 0x1 recvbuff 0x1 count ${count} datatype 7 op 0 root 0 comm 0x${pid} [nranks=2] stream 0x2`;
    const e = readNcclText([line(20, 8), line(10, 8), line(20, 8)].join('\n'));
    expect(e.analysis.rankSource).toBe('order');
    expect(e.analysis.rankOfProcess).toEqual({ 'h:10': 0, 'h:20': 1 });
    expect(e.analysis.divergences[0]?.divergentRanks).toEqual([0]);
  });

  it('two ranks that disagree on a count: a tie, no rank singled out', () => {
    const line = (pid: number, dev: number, count: number) => `h:${pid}:${pid} [${dev}] NCCL INFO AllGather: opCount 0 sendbuff 0x1 recvbuff 0x1 count ${count} datatype 7 op 0 root 0 comm 0x${pid} [nranks=2] stream 0x2`;
    const e = readNcclText([line(1, 0, 8), line(2, 1, 16)].join('\n'));
    expect(e.analysis.divergences[0]).toMatchObject({ kind: 'mismatch', ambiguous: true, divergentRanks: [] });
  });

  it('keeps separate communicators apart and reports no divergence when they agree', () => {
    const l = (pid: number, dev: number, comm: string, n: number, op = 'AllReduce') => `h:${pid}:${pid} [${dev}] NCCL INFO ${op}: opCount 0 sendbuff 0x1 recvbuff 0x1 count 4 datatype 7 op 0 root 0 comm ${comm} [nranks=${n}] stream 0x2`;
    const e = readNcclText([l(1, 0, '0xa', 2), l(2, 1, '0xb', 2), l(1, 0, '0xc', 4, 'AllGather'), l(2, 1, '0xd', 4, 'AllGather')].join('\n'));
    expect(e.analysis.groups.map((g) => g.id).sort()).toEqual(['nranks=2#0', 'nranks=4#0']);
    expect(e.analysis.divergences).toEqual([]);
  });
});
