/**
 * The pickle machine's state and primitives: the input window, the value and mark stacks, the memo
 * and the resource accounting. The opcode loop lives in reader.ts.
 */
import { TriageError } from '../../errors.js';
import { WORK_PER_CLOCK_CHECK, type DecodeBudget } from './budget.js';
import { badPickle, pickleLimit, type PickleLimits } from './limits.js';
import type { Meter } from './objects.js';
import { opcodeName } from './opcodes.js';
import type { ByteSource } from './source.js';
import { decodeSignedLE } from './text-ops.js';
import { PyText, type PickleValue, type PyDict } from './values.js';

/**
 * Buffer's own decoders, without toString()'s argument juggling (measurably faster for the many
 * short keys in a dump). Present on every Node Buffer; see ensureFastSlices for the fallback.
 */
interface FastSlices {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

function ensureFastSlices(): void {
  const proto = Buffer.prototype as unknown as Partial<FastSlices>;
  if (typeof proto.utf8Slice !== 'function') {
    proto.utf8Slice = function (this: Buffer, start: number, end: number) {
      return this.toString('utf8', start, end);
    };
  }
  if (typeof proto.latin1Slice !== 'function') {
    proto.latin1Slice = function (this: Buffer, start: number, end: number) {
      return this.toString('latin1', start, end);
    };
  }
}
ensureFastSlices();

/** Bytes of a lazy string kept at hand for previews (160 characters of 4-byte UTF-8 and then some). */
const PREVIEW_HEAD_BYTES = 1024;

/** Cost charged per container or object, on top of 8 bytes per slot. */
export const OBJECT_COST = 64;

export class MachineState implements Meter {
  protected buf: Buffer = Buffer.alloc(0);
  protected pos = 0;
  protected end = 0;
  /** Absolute input offset of buf[0]. */
  protected base = 0;
  protected readonly stack: PickleValue[] = [];
  protected readonly marks: number[] = [];
  protected fence = 0;
  protected readonly memo: Array<PickleValue | undefined> = [];
  protected sparseMemo: Map<number, PickleValue> | null = null;
  protected memoCount = 0;
  /** Work units left before the next clock reading (see budget.ts). */
  protected workLeft = WORK_PER_CLOCK_CHECK;
  protected protocol = 0;
  protected nextBufferIndex = 0;
  protected op = 0;
  protected opAt = 0;
  protected result: PickleValue | undefined = undefined;

  constructor(
    protected readonly source: ByteSource,
    protected readonly limits: PickleLimits,
    /** Strings of this many encoded bytes or more stay bytes (PyText). */
    protected readonly lazyTextBytes: number,
    /** The load's one allocation and time budget, shared with every later decode. */
    readonly budget: DecodeBudget,
  ) {
    this.load(0, 1);
  }

  // ---- input -------------------------------------------------------------------------------

  protected here(): number {
    return this.base + this.pos;
  }

  protected remaining(): number {
    return this.source.size - this.here();
  }

  protected load(offset: number, need: number): void {
    const w = this.source.window(offset, need);
    this.buf = w.buf;
    this.base = offset - w.start;
    this.pos = w.start;
    this.end = w.end;
  }

  /** Makes `n` bytes available at pos; false at end of input. */
  protected more(n: number): boolean {
    if (this.end - this.pos >= n) return true;
    if (this.remaining() < n) return false;
    this.load(this.here(), n);
    return this.end - this.pos >= n;
  }

  protected need(n: number): void {
    if (this.end - this.pos < n && !this.more(n)) throw this.bad(`truncated ${opcodeName(this.op)}`);
  }

  protected u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  protected u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  protected i32(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** 8-byte little-endian length; beyond 2^53 it is far past any input, which the caller rejects. */
  protected u64(): number {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    return hi * 0x1_0000_0000 + lo;
  }

  /** Checks a claimed payload length against the input before anything is allocated. */
  protected payload(n: number): void {
    const left = this.remaining();
    if (n > left) throw this.bad(`truncated ${opcodeName(this.op)} (claims ${n} bytes, ${left} remain)`);
    this.charge(n);
    this.need(n);
  }

  protected text(n: number, encoding: 'utf8' | 'latin1'): string | PyText {
    if (n >= this.lazyTextBytes) {
      // Long text is only located here, not read: PyText fetches it from the source when asked.
      const left = this.remaining();
      if (n > left) throw this.bad(`truncated ${opcodeName(this.op)} (claims ${n} bytes, ${left} remain)`);
      const headBytes = Math.min(n, PREVIEW_HEAD_BYTES, this.end - this.pos);
      const text = new PyText(this.source, this.here(), n, encoding, this.slice(this.pos, headBytes));
      this.skip(n);
      return text;
    }
    this.payload(n);
    const start = this.pos;
    this.pos = start + n;
    const buf = this.buf as unknown as FastSlices;
    return encoding === 'utf8' ? buf.utf8Slice(start, start + n) : buf.latin1Slice(start, start + n);
  }

  /** Moves past `n` bytes that are known to be in the input, without reading them. */
  private skip(n: number): void {
    if (this.end - this.pos >= n) this.pos += n;
    else this.load(this.here() + n, 1);
  }

  /** Bytes at [start, start+n) that stay valid: a view when the source never slides, else a copy. */
  private slice(start: number, n: number): Buffer {
    if (this.source.stable) return this.buf.subarray(start, start + n);
    const copy = Buffer.allocUnsafe(n);
    this.buf.copy(copy, 0, start, start + n);
    return copy;
  }

  protected bytes(n: number): Buffer {
    this.payload(n);
    const out = this.slice(this.pos, n);
    this.pos += n;
    return out;
  }

  /** A protocol-0 argument line without its "\n" (and a Windows "\r"), decoded as latin1. */
  protected line(maxLength: number): string {
    let searchFrom = this.pos;
    for (;;) {
      const nl = this.buf.indexOf(10, searchFrom);
      if (nl !== -1 && nl < this.end) {
        const length = nl - this.pos;
        if (length > maxLength) break;
        this.charge(length);
        let text = (this.buf as unknown as FastSlices).latin1Slice(this.pos, nl);
        if (text.endsWith('\r')) text = text.slice(0, -1);
        this.pos = nl + 1;
        return text;
      }
      const have = this.end - this.pos;
      this.workLeft -= (have - (searchFrom - this.pos)) >> 6;
      if (have > maxLength) break;
      if (this.remaining() <= have) throw this.bad(`truncated ${opcodeName(this.op)} (no end of line)`);
      const scanned = have;
      this.load(this.here(), Math.min(this.remaining(), Math.max(have * 2, 4096)));
      searchFrom = this.pos + scanned;
    }
    throw this.limit(`${opcodeName(this.op)} line longer than ${maxLength} bytes`);
  }

  protected pushLong(n: number): void {
    if (n > this.limits.maxIntBytes) throw this.limit(`${opcodeName(this.op)} of ${n} bytes exceeds the integer size limit`);
    this.payload(n);
    const v = decodeSignedLE(this.buf, this.pos, n);
    this.pos += n;
    this.push(v);
  }

  protected memoIndexLine(): number {
    const text = this.line(32);
    if (!/^\d+$/.test(text)) throw this.bad('malformed memo index');
    return Number(text);
  }

  // ---- stack and memo ----------------------------------------------------------------------

  /** Every push is charged a stack slot, which also bounds tuples, globals and refs built from tiny input. */
  protected push(value: PickleValue): void {
    if (this.stack.length + this.marks.length >= this.limits.maxStackDepth) throw this.limit('stack depth limit');
    if (!this.budget.tryCharge(16)) throw this.overBudget('the values on the stack');
    this.stack.push(value);
  }

  protected pop(): PickleValue {
    if (this.stack.length <= this.fence) throw this.bad(`stack underflow in ${opcodeName(this.op)}`);
    return this.stack.pop()!;
  }

  protected top(): PickleValue {
    if (this.stack.length <= this.fence) throw this.bad(`stack underflow in ${opcodeName(this.op)}`);
    return this.stack[this.stack.length - 1]!;
  }

  /** Removes the top mark and returns the stack index it pointed at. */
  protected popMark(): number {
    const mark = this.marks.pop();
    if (mark === undefined) throw this.bad(`${opcodeName(this.op)} without MARK`);
    this.fence = this.marks.length ? this.marks[this.marks.length - 1]! : 0;
    return mark;
  }

  protected popToMark(): PickleValue[] {
    const mark = this.popMark();
    const items = this.stack.splice(mark);
    if (!this.budget.tryCharge(OBJECT_COST + 8 * items.length)) throw this.overBudget(`a ${items.length}-item ${opcodeName(this.op)}`);
    this.workLeft -= items.length;
    return items;
  }

  /** Moves the key/value pairs above `mark` from the stack into `dict`. */
  protected setPairs(dict: PyDict, mark: number): void {
    const stack = this.stack;
    const count = stack.length - mark;
    if (count % 2 !== 0) throw this.bad(`odd number of items for ${opcodeName(this.op)}`);
    this.grow(dict.size + count / 2);
    if (!this.budget.tryCharge(8 * count)) throw this.overBudget(`a dict of ${dict.size + count / 2} items`);
    this.workLeft -= count;
    for (let i = mark; i < stack.length; i += 2) dict.set(keyOf(stack[i]!, this), stack[i + 1]!);
    stack.length = mark;
  }

  /** The value just below a popped mark (the list or dict that APPENDS/SETITEMS extend). */
  protected below(mark: number): PickleValue {
    if (mark <= this.fence) throw this.bad(`stack underflow in ${opcodeName(this.op)}`);
    return this.stack[mark - 1]!;
  }

  protected memoSet(index: number, value: PickleValue): void {
    if (index < this.memo.length) {
      if (this.memo[index] === undefined) this.memoCount++;
      this.memo[index] = value;
    } else if (index === this.memo.length) {
      this.memoCount++;
      this.memo.push(value);
    } else {
      this.sparseMemo ??= new Map();
      if (!this.sparseMemo.has(index)) this.memoCount++;
      this.sparseMemo.set(index, value);
    }
    if (this.memoCount > this.limits.maxMemo) throw this.limit('memo size limit');
  }

  protected memoGet(index: number): PickleValue {
    const value = index < this.memo.length ? this.memo[index] : this.sparseMemo?.get(index);
    if (value === undefined) throw this.bad(`memo key ${index} not found`);
    return value;
  }

  // ---- bounds and errors -------------------------------------------------------------------

  /** Meter: charges the load's budget for `what` (an E_LIMIT at this offset when it runs out). */
  charge(bytes: number, what?: string): void {
    if (!this.budget.tryCharge(bytes)) throw this.overBudget(what ?? `${opcodeName(this.op)} data`);
  }

  /** Meter: O(n) steps count as n units of work toward the next clock reading. */
  work(units: number): void {
    this.workLeft -= units;
  }

  protected grow(length: number): void {
    if (length > this.limits.maxContainerLength) throw this.limit(`container length limit (${this.limits.maxContainerLength} items)`);
    this.charge(8, 'container items');
  }

  protected overBudget(what: string): TriageError {
    return this.limit(`${what} would exceed the allocation budget of ${Math.round(this.budget.maxBytes / 1024 / 1024)} MiB for this load`);
  }

  protected bad(what: string): TriageError {
    // A failure on the very first opcode (other than PROTO) means this was never a pickle.
    if (this.opAt === 0 && this.op !== 0x80 && !what.startsWith('not a pickle')) what = `not a pickle (${what})`;
    return badPickle(what, this.opAt, this.op);
  }

  protected limit(what: string): TriageError {
    return pickleLimit(what, this.opAt, this.op);
  }
}

/**
 * Dict keys are looked up by value, so a (rare) long key is decoded rather than kept lazy. It is
 * decoded once and charged once: one long memo'd text used as a key 20 000 times costs one string,
 * not 20 000.
 */
export function keyOf(key: PickleValue, meter: Meter): PickleValue {
  if (!(key instanceof PyText)) return key;
  const { text, fresh } = key.asKey();
  if (fresh) {
    meter.charge(key.byteLength * 2, `a ${key.byteLength}-byte text used as a dict key`);
    meter.work(key.byteLength >> 4);
  }
  return text;
}
