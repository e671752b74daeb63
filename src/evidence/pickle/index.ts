/**
 * A safe, bounded reader for Python pickles (protocols 0–5). Produces data and inert records; never
 * executes anything the pickle names. See values.ts for the value model and to-json.ts for JSON.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { TriageError, throwIfAborted } from '../../errors.js';
import { DecodeBudget } from './budget.js';
import { resolveLimits, type PickleLimits } from './limits.js';
import { PickleMachine } from './reader.js';
import { BufferSource, FileSource, type ByteSource } from './source.js';
import type { PickleValue } from './values.js';

export * from './values.js';
export { DEFAULT_LIMITS, resolveLimits, type PickleLimits } from './limits.js';
export { pickleToJson, measureJson, type ToJsonOptions, type JsonValue, type JsonCut } from './to-json.js';
export { DecodeBudget, WORK_PER_CLOCK_CHECK } from './budget.js';

export interface ReadPickleOptions {
  signal?: AbortSignal;
  limits?: Partial<PickleLimits>;
  /** How long the reader runs before yielding to the event loop (so aborts and timers fire). */
  sliceMs?: number;
  /** Bytes of the sliding file window (file input only). */
  windowBytes?: number;
  /**
   * Strings of at least this many encoded bytes come out as PyText: a reference into the input,
   * decoded on demand (from a file input, read from the file again). Default 4096; Infinity decodes
   * every string while reading. From a buffer input, PyBytes are views of it too.
   */
  lazyTextBytes?: number;
  /**
   * The load's allocation and time budget; default one made from `limits` (maxAllocBytes,
   * maxTimeMs). Returned in the result so later decodes of the same values charge the same account.
   */
  budget?: DecodeBudget;
}

export const DEFAULT_LAZY_TEXT_BYTES = 4096;

export interface PickleResult {
  value: PickleValue;
  /** Protocol from the PROTO opcode; 0 when absent (protocols 0 and 1 have none). */
  protocol: number;
  /** Bytes up to and including STOP. */
  length: number;
  /** Size of the whole input (trailing bytes after STOP are ignored, as CPython does). */
  inputBytes: number;
  /** What reading charged, and what every later decode of `value` must charge too. */
  budget: DecodeBudget;
}

/** Reads one pickle from a buffer. */
export async function readPickle(input: Buffer, options: ReadPickleOptions = {}): Promise<PickleResult> {
  return runMachine(new BufferSource(input), options);
}

/** Reads one pickle from a file through a sliding window (memory stays near the decoded size). */
export async function readPickleFile(file: string, options: ReadPickleOptions = {}): Promise<PickleResult> {
  throwIfAborted(options.signal, 'pickle read');
  let source: FileSource;
  try {
    source = new FileSource(file, options.windowBytes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new TriageError('E_NOT_FOUND', `no such file: ${file}`, { cause: err });
    throw new TriageError('E_IO', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return await runMachine(source, options);
  } finally {
    source.close();
  }
}

async function runMachine(source: ByteSource, options: ReadPickleOptions): Promise<PickleResult> {
  const limits = resolveLimits(source.size, options.limits);
  const sliceMs = options.sliceMs ?? 50;
  throwIfAborted(options.signal, 'pickle read');
  const budget = options.budget ?? new DecodeBudget({ maxBytes: limits.maxAllocBytes, maxTimeMs: limits.maxTimeMs });
  const machine = new PickleMachine(source, limits, options.lazyTextBytes ?? DEFAULT_LAZY_TEXT_BYTES, budget);
  for (;;) {
    const done = machine.run(sliceMs);
    if (done) return { ...done, inputBytes: source.size, budget };
    await yieldToEventLoop();
    throwIfAborted(options.signal, 'pickle read');
  }
}
