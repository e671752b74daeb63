import { TriageError } from '../../errors.js';
import { hex2, opcodeName } from './opcodes.js';

/**
 * Bounds on what one pickle may make the reader do. Dumps come from crashed servers and may be
 * truncated or hostile, so every resource the input controls has a ceiling.
 */
export interface PickleLimits {
  /** Values on the VM stack plus open MARKs (a flat `]]]]…` bomb grows the stack, not recursion). */
  maxStackDepth: number;
  /** Memo entries. */
  maxMemo: number;
  /** Items in one list, tuple, dict or set. */
  maxContainerLength: number;
  /**
   * The load's allocation budget (budget.ts): estimated bytes that reading AND every later decode of
   * the result (summary, JSON, replay bodies) may allocate together — decoded strings and bytes,
   * slots, a fixed cost per object, copies made by data builtins and merges. Default
   * max(16 × input size, 256 MiB).
   */
  maxAllocBytes: number;
  /** Bytes of one LONG/LONG1/LONG4 integer (big-integer parsing is superlinear). */
  maxIntBytes: number;
  /** Wall-clock budget in milliseconds, read by work done (budget.ts), not per opcode count. */
  maxTimeMs: number;
}

export const DEFAULT_LIMITS: Readonly<Omit<PickleLimits, 'maxAllocBytes'>> = {
  maxStackDepth: 1_000_000,
  maxMemo: 50_000_000,
  maxContainerLength: 100_000_000,
  maxIntBytes: 64 * 1024,
  maxTimeMs: 120_000,
};

const MIB = 1024 * 1024;

/** Defaults scaled to the input, with the caller's overrides on top. */
export function resolveLimits(inputBytes: number, overrides: Partial<PickleLimits> = {}): PickleLimits {
  return {
    ...DEFAULT_LIMITS,
    maxAllocBytes: Math.max(16 * inputBytes, 256 * MIB),
    ...stripUndefined(overrides),
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** `pickle: truncated BINUNICODE at offset 1234 (opcode 0x58)`, E_BAD_INPUT. */
export function badPickle(what: string, offset: number, opcode: number | null): TriageError {
  return pickleError('E_BAD_INPUT', what, offset, opcode);
}

/** A bound was exceeded: E_LIMIT with the same shape of message. */
export function pickleLimit(what: string, offset: number, opcode: number | null): TriageError {
  return pickleError('E_LIMIT', what, offset, opcode);
}

function pickleError(code: 'E_BAD_INPUT' | 'E_LIMIT', what: string, offset: number, opcode: number | null): TriageError {
  const where = opcode === null ? `at offset ${offset}` : `at offset ${offset} (opcode 0x${hex2(opcode)})`;
  return new TriageError(code, `pickle: ${what} ${where}`, {
    details: { offset, opcode, opcodeName: opcode === null ? null : opcodeName(opcode) },
  });
}
