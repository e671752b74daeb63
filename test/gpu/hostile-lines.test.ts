/**
 * Every GPU recogniser on long runs of every character class, behind every prefix the parsers key on.
 * A superlinear pattern (the NCCL marker regex took 44 s on a 256 KiB hex line) makes these runs take
 * minutes, so the vitest timeout catches it; linear parsers finish them in a few seconds. Correctness
 * is asserted too: after the hostile lines, the real evidence in the same text is still read.
 * No timing assertions (speed is measured in benchmarks).
 */
import { describe, expect, it } from 'vitest';
import { parseComputeSanitizer } from '../../src/evidence/gpu/compute-sanitizer.js';
import { parseCoredumpProgress } from '../../src/evidence/gpu/coredump-progress.js';
import { parseCudaGdb } from '../../src/evidence/gpu/cuda-gdb-parse.js';
import { GPU_RECOGNIZERS } from '../../src/evidence/gpu/index.js';
import { bareKernelName } from '../../src/evidence/gpu/kernel-names.js';
import { readNcclText } from '../../src/evidence/gpu/nccl-log.js';
import { findNcclPrefix } from '../../src/evidence/gpu/nccl-log-parse.js';
import { parseNvidiaSmi } from '../../src/evidence/gpu/nvidia-smi.js';
import { parsePythonStacks } from '../../src/evidence/gpu/python-stacks-parse.js';
import { parseServerLog } from '../../src/evidence/gpu/server-log-parse.js';
import { findTracebacks } from '../../src/evidence/gpu/tracebacks.js';
import { CLASSES, PREFIXES } from './hostile-lines.js';
import { real } from './helpers.js';

const RUN = 8 * 1024;
const hostileText = (cls: string): string => PREFIXES.map((p) => p + cls.repeat(Math.ceil(RUN / cls.length))).join('\n');

const PARSERS: Record<string, (text: string) => unknown> = {
  'cuda-gdb': parseCudaGdb,
  'compute-sanitizer': parseComputeSanitizer,
  'coredump-progress': parseCoredumpProgress,
  nccl: readNcclText,
  'nvidia-smi': parseNvidiaSmi,
  'python-stacks': parsePythonStacks,
  'server-log': parseServerLog,
  tracebacks: (t) => findTracebacks(t.split('\n')),
  'kernel-name': (t) => t.split('\n').map((l) => bareKernelName(l)),
};

describe('recognisers on long runs of every character class', () => {
  it(`${CLASSES.length} classes x ${PREFIXES.length} prefixes, ${RUN / 1024} KiB runs: every parser and every sniff returns`, () => {
    let runs = 0;
    for (const cls of CLASSES) {
      const text = hostileText(cls);
      for (const parse of Object.values(PARSERS)) {
        parse(text);
        runs++;
      }
      for (const r of GPU_RECOGNIZERS) {
        r.sniff({ path: '/dev/null', rel: 'x', size: text.length, head: text.slice(0, 64 * 1024) });
        runs++;
      }
    }
    expect(runs).toBe(CLASSES.length * (Object.keys(PARSERS).length + GPU_RECOGNIZERS.length));
  }, 120_000);

  it('a 1 MiB hex line (the NCCL marker case) does not hide the NCCL lines after it', async () => {
    const hex = '0123456789abcdef'.repeat(64 * 1024);
    const nccl = await real('hang.stdout.txt');
    const parsed = readNcclText(`${hex}\n${hex}:1:2 [0] NCCL\n${nccl}`);
    expect(Object.keys(parsed.processes)).toHaveLength(2);
    expect(parsed.analysis.divergences[0]).toMatchObject({ op: 'AllGather' });
    expect(findNcclPrefix(`${hex}:12:34 [5] NCCL WARN x`)).toMatchObject({ pid: 12, tid: 34, cudaDev: 5, level: 'WARN' });
    expect(findNcclPrefix(`x:1:2 [0] NCCL INF`)).toBeNull();
  }, 60_000);

  it('after every hostile line, the real cuda-gdb transcript and sanitizer report in the same text are still read', async () => {
    const gdb = await real('crash.cuda-gdb.txt');
    const san = await real('crash.compute-sanitizer.txt');
    for (const cls of ['<', '(', '[', ' ', '0']) {
      const t = parseCudaGdb(`${hostileText(cls)}\n${gdb}`);
      expect(t.exception?.name).toBe('Warp Out-of-range Address');
      expect(t.kernel?.bare).toBe('moe_align_block_size_kernel');
      const s = parseComputeSanitizer(`${hostileText(cls)}\n${san}`);
      expect(s.errors.find((e) => e.category === 'memory-access')?.kernel).toBe('moe_align_block_size_kernel');
    }
  }, 60_000);
});
