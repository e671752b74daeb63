/**
 * One pathological multi-MB line must not stall the per-line parsers (some patterns were quadratic):
 * lines are cut to 16 KiB before any regex, and a real CUDA error after the long lines is still found.
 * Correctness only; no timing assertions.
 */
import { describe, expect, it } from 'vitest';
import { parseComputeSanitizer } from '../../src/evidence/gpu/compute-sanitizer.js';
import { parseCoredumpProgress } from '../../src/evidence/gpu/coredump-progress.js';
import { parseCudaGdb } from '../../src/evidence/gpu/cuda-gdb-parse.js';
import { parseNcclLog } from '../../src/evidence/gpu/nccl-log-parse.js';
import { parseNvidiaSmi } from '../../src/evidence/gpu/nvidia-smi.js';
import { parsePythonStacks } from '../../src/evidence/gpu/python-stacks-parse.js';
import { parseServerLog } from '../../src/evidence/gpu/server-log-parse.js';
import { findTracebacks } from '../../src/evidence/gpu/tracebacks.js';
import { routeSources } from './helpers.js';

const MB4 = 4 * 1024 * 1024;
const rep = (unit: string, chars: number): string => unit.repeat(Math.ceil(chars / unit.length));

const ASSERTISH = rep('a:1: ', MB4);
const SPACES = `[2026-10-02 09:20:18 TP0] CUDA error: x${' '.repeat(MB4)}`;
const TRACEBACKISH = rep('Traceback (most recent call last): File "x.py", line 1, in f ', MB4);
const REAL_ERROR = '[2026-10-02 09:20:19 TP0] RuntimeError: CUDA error: an illegal memory access was encountered';

const LOG = [
  '[2026-10-02 09:20:17 TP0] Prefill batch. #new-seq: 1, #new-token: 769, #cached-token: 0, token usage: 0.00, #running-req: 0, #queue-req: 0',
  ASSERTISH,
  SPACES,
  TRACEBACKISH,
  REAL_ERROR,
  '',
].join('\n');

describe('multi-MB log lines', () => {
  it('parseServerLog returns and still finds the real CUDA error after the long lines', () => {
    const log = parseServerLog(LOG);
    expect(log.lineCount).toBe(6);
    expect(log.deviceAsserts).toEqual([]);
    const real = log.cudaErrors.find((e) => e.line === 5);
    expect(real).toMatchObject({ kind: 'illegal-address', message: 'an illegal memory access was encountered' });
    // The spaces line is still a (clipped) CUDA error line, with its trailing spaces gone.
    expect(log.cudaErrors.find((e) => e.line === 3)?.message).toBe('x');
    for (const e of log.cudaErrors) expect(e.text.length).toBeLessThanOrEqual(500);
  });

  it('a device-assert line after the long lines is still parsed (file, line, kernel function)', () => {
    const assertLine =
      '/pytorch/aten/src/ATen/native/cuda/IndexKernel.cu:93: operator(): block: [5,0,0], thread: [64,0,0] Assertion `-sizes[i] <= index && index < sizes[i] && "index out of bounds"` failed.';
    const log = parseServerLog(`${ASSERTISH}\n${assertLine}\n`);
    expect(log.deviceAsserts).toEqual([
      expect.objectContaining({ line: 2, file: '/pytorch/aten/src/ATen/native/cuda/IndexKernel.cu', function: 'operator()', block: '(5,0,0)', thread: '(64,0,0)' }),
    ]);
    // A long assert-ish line that mentions "Assertion" is cut and scanned linearly.
    expect(parseServerLog(`${ASSERTISH}Assertion\n`).deviceAsserts).toEqual([]);
  });

  it('findTracebacks on raw (unclipped) lines returns', () => {
    expect(Array.isArray(findTracebacks(LOG.split('\n')))).toBe(true);
  });

  it('the other per-line parsers return on the same text', () => {
    expect(() => parseNcclLog(LOG)).not.toThrow();
    expect(() => parsePythonStacks(LOG)).not.toThrow();
    expect(() => parseCudaGdb(LOG)).not.toThrow();
    expect(() => parseComputeSanitizer(LOG)).not.toThrow();
    expect(() => parseCoredumpProgress(LOG)).not.toThrow();
    expect(() => parseNvidiaSmi(LOG)).not.toThrow();
  });

  it('scanFolder + route on a folder holding the log returns a crash carrying the real CUDA error', async () => {
    const { report } = await routeSources([{ name: 'long-lines.log', text: LOG }], 31);
    expect(report.problemClass).toBe('crash');
    // Both CUDA error lines are seen: the clipped `CUDA error: x` one and the real one after the long lines.
    expect(report.checked.join('\n')).toContain('2 CUDA error line(s)');
    expect(report.facts.rule).toBe('cuda-kernel-fault');
  }, 60_000);
});
