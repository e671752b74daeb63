/**
 * The scalar opcodes that are read outside the opcode switch: runs of small binary ints (a token-id
 * list is most of a dump) and protocol 0's text lines (INT, LONG, FLOAT, STRING, UNICODE), each bounded.
 */
import { OP } from './opcodes.js';
import { MachineState } from './state.js';
import { decodeRawUnicodeEscape, decodeStringLiteral, parseFloatLine, parseIntLine, parseLongLine } from './text-ops.js';

/**
 * Longest protocol-0 LONG in decimal digits: CPython's own default int_max_str_digits (4300, see
 * sys.int_info), beyond which its unpickler refuses the value too. Decimal parsing is quadratic.
 */
const MAX_LONG_DIGITS = 4300;
/** Longest protocol-0 text line (GLOBAL names, INT, FLOAT) before we call it garbage. */
export const MAX_NAME_LINE = 64 * 1024;

const BININT1 = OP.BININT1;
const BININT2 = OP.BININT2;
const BININT = OP.BININT;

export class ScalarReader extends MachineState {
  /**
   * A run of BININT1/BININT2/BININT opcodes (a list batch of token ids), from `pos`, pushed onto the
   * stack without a trip through the opcode switch each. Stops at the first other opcode or at the
   * end of the window; charges the run's stack slots and work in one go.
   */
  protected intRun(): void {
    const b = this.buf;
    const end = this.end;
    const stack = this.stack;
    const room = this.limits.maxStackDepth - stack.length - this.marks.length;
    let p = this.pos;
    let n = 0;
    for (;;) {
      if (p >= end || n >= room) break;
      const op = b[p]!;
      if (op === BININT1) {
        if (p + 2 > end) break;
        stack.push(b[p + 1]!);
        p += 2;
      } else if (op === BININT2) {
        if (p + 3 > end) break;
        stack.push(b[p + 1]! | (b[p + 2]! << 8));
        p += 3;
      } else if (op === BININT) {
        if (p + 5 > end) break;
        stack.push(b[p + 1]! | (b[p + 2]! << 8) | (b[p + 3]! << 16) | (b[p + 4]! << 24));
        p += 5;
      } else break;
      n++;
    }
    if (n === 0) {
      // At a window edge or the stack bound: one opcode the ordinary way (it loads or throws).
      this.op = b[p]!;
      this.opAt = this.base + p;
      this.pos = p + 1;
      const size = this.op === BININT1 ? 1 : this.op === BININT2 ? 2 : 4;
      this.need(size);
      const q = this.pos;
      const v = size === 1 ? this.buf[q]! : size === 2 ? this.buf[q]! | (this.buf[q + 1]! << 8) : this.buf.readInt32LE(q);
      this.pos = q + size;
      this.push(v);
      return;
    }
    this.pos = p;
    this.workLeft -= n;
    if (!this.budget.tryCharge(16 * n)) throw this.overBudget('the values on the stack');
  }

  // Protocol 0 writes True and False as INT 01 and 00.
  protected intLine(): number | bigint | boolean {
    const v = parseIntLine(this.line(MAX_NAME_LINE));
    if (v === null) throw this.bad('malformed INT');
    return v;
  }

  protected longLine(): number | bigint {
    const v = parseLongLine(this.line(Math.min(Math.ceil(this.limits.maxIntBytes * 2.5), MAX_LONG_DIGITS) + 2));
    if (v === null) throw this.bad('malformed LONG');
    return v;
  }

  protected floatLine(): number {
    const v = parseFloatLine(this.line(MAX_NAME_LINE));
    if (v === null) throw this.bad('malformed FLOAT');
    return v;
  }

  protected stringLine(): string {
    const v = decodeStringLiteral(this.line(this.remaining()));
    if (v === null) throw this.bad('malformed STRING literal');
    return v;
  }

  protected unicodeLine(): string {
    const v = decodeRawUnicodeEscape(this.line(this.remaining()));
    if (v === null) throw this.bad('malformed UNICODE escape');
    return v;
  }
}
