/**
 * One allocation and work budget per load, shared by every decode of what that load produced: the
 * reader, the summary, the JSON conversions and the replay bodies. A pickle of a few KB can name
 * one big value from a million places (memo amplification); a bound per field lets each field stay
 * under its own ceiling while the whole blows up, so every decode charges this one account instead.
 *
 * Work is counted too: each opcode is one unit, and every O(n) step (a copy, a merge, a decimal
 * conversion) charges n. The clock is read when enough work has been done, so a pickle whose
 * single opcodes are expensive meets the time limit as soon as a cheap one would.
 */
import { TriageError } from '../../errors.js';

/** Units of work between clock readings. */
export const WORK_PER_CLOCK_CHECK = 1 << 16;

export interface BudgetOptions {
  /** Estimated bytes every decode together may allocate. */
  maxBytes: number;
  /** Wall-clock budget in ms for the whole load (reading and decoding). */
  maxTimeMs: number;
  /** What the budget belongs to, for messages: "pickle /path/x.pkl". */
  subject?: string;
  now?: () => number;
}

export class DecodeBudget {
  readonly maxBytes: number;
  readonly maxTimeMs: number;
  readonly subject: string;
  private used = 0;
  private readonly deadline: number;
  private workUntilCheck = WORK_PER_CLOCK_CHECK;
  private readonly now: () => number;

  constructor(options: BudgetOptions) {
    this.maxBytes = options.maxBytes;
    this.maxTimeMs = options.maxTimeMs;
    this.subject = options.subject ?? 'pickle';
    this.now = options.now ?? (() => performance.now());
    this.deadline = this.now() + options.maxTimeMs;
  }

  /** Bytes charged so far. */
  get usedBytes(): number {
    return this.used;
  }

  /** True when `bytes` more would still fit. */
  fits(bytes: number): boolean {
    return this.used + bytes <= this.maxBytes;
  }

  /** Charges `bytes` when they fit and says whether they did (hot paths build their message only on failure). */
  tryCharge(bytes: number): boolean {
    this.used += bytes;
    return this.used <= this.maxBytes;
  }

  /** Charges estimated bytes; `what` names the value that needed them when the budget runs out. */
  charge(bytes: number, what: string): void {
    this.used += bytes;
    if (this.used > this.maxBytes) throw this.exhausted(what);
  }

  /** Charges `units` of work and reads the clock when enough has accumulated. */
  work(units: number, what: string): void {
    this.workUntilCheck -= units;
    if (this.workUntilCheck <= 0) this.checkClock(what);
  }

  /** Reads the clock now (also called by the reader between slices). */
  checkClock(what: string): void {
    this.workUntilCheck = WORK_PER_CLOCK_CHECK;
    if (this.now() >= this.deadline) {
      throw new TriageError('E_LIMIT', `${this.subject}: time limit of ${this.maxTimeMs} ms exceeded while ${what}`, {
        details: { limit: 'time', maxTimeMs: this.maxTimeMs, what },
      });
    }
  }

  exhausted(what: string): TriageError {
    return new TriageError(
      'E_LIMIT',
      `${this.subject}: ${what} would need more than the ${formatBytes(this.maxBytes)} allocation budget of this load (one value referenced from many places, or more data than the input can hold)`,
      { details: { limit: 'allocation', maxBytes: this.maxBytes, usedBytes: this.used, what } },
    );
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round(n / 1024 / 1024)} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} B`;
}
