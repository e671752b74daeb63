/**
 * The pickle virtual machine: one flat loop over opcodes with an explicit value stack and mark
 * stack, so input nesting never turns into JS recursion. It never imports, calls or evaluates
 * anything: GLOBAL yields a name, REDUCE yields a record (see objects.ts).
 */
import { isTriageError } from '../../errors.js';
import { WORK_PER_CLOCK_CHECK } from './budget.js';
import { badPickle } from './limits.js';
import { build, dictTarget, listTarget, makeGlobal, newObject, reduce, setTarget } from './objects.js';
import { HIGHEST_PROTOCOL, OP } from './opcodes.js';
import { MAX_NAME_LINE, ScalarReader } from './scalars.js';
import { decodeRawUnicodeEscape } from './text-ops.js';
import { keyOf, OBJECT_COST } from './state.js';
import { PyBytes, PyExtensionRef, PyOutOfBandBuffer, PyPersistentRef, PySet, PyTuple, type PickleValue, type PyDict } from './values.js';


export interface MachineResult {
  value: PickleValue;
  protocol: number;
  /** Bytes consumed up to and including STOP. */
  length: number;
}

export class PickleMachine extends ScalarReader {
  /**
   * Runs until STOP or until `sliceMs` has passed (returns null so the caller can yield to the
   * event loop and check its AbortSignal).
   */
  run(sliceMs: number): MachineResult | null {
    const sliceEnd = performance.now() + sliceMs;
    const stack = this.stack;
    for (;;) {
      // Time is read by work done, not by opcode count: O(n) steps charge n units (see budget.ts).
      if (--this.workLeft <= 0) {
        this.workLeft = WORK_PER_CLOCK_CHECK;
        try {
          this.budget.checkClock('reading the pickle');
        } catch (err) {
          throw isTriageError(err, 'E_LIMIT') ? this.limit(`time limit of ${this.budget.maxTimeMs} ms exceeded`) : err;
        }
        if (performance.now() >= sliceEnd) return null;
      }
      if (this.pos >= this.end && !this.more(1)) {
        const what = this.source.size === 0 ? 'empty input, not a pickle' : 'truncated pickle: input ended before STOP';
        throw badPickle(what, this.here(), null);
      }
      const op = this.buf[this.pos]!;
      this.op = op;
      this.opAt = this.base + this.pos;
      this.pos++;
      switch (op) {
        case OP.PROTO: {
          const version = this.u8();
          if (version > HIGHEST_PROTOCOL) throw this.bad(`unsupported protocol ${version} in PROTO`);
          this.protocol = version;
          break;
        }
        case OP.FRAME: {
          const length = this.u64();
          if (length > this.remaining()) throw this.bad(`truncated FRAME (claims ${length} bytes, ${this.remaining()} remain)`);
          break;
        }
        case OP.STOP:
          this.result = this.pop();
          return { value: this.result, protocol: this.protocol, length: this.here() };
        case OP.MARK:
          if (this.marks.length + stack.length >= this.limits.maxStackDepth) throw this.limit('stack depth limit');
          this.marks.push(stack.length);
          this.fence = stack.length;
          break;
        case OP.POP:
          if (stack.length > this.fence) stack.pop();
          else if (stack.length === this.fence && this.marks.length) this.popMark(); // POP of a MARK
          else throw this.bad('stack underflow in POP');
          break;
        case OP.POP_MARK:
          stack.length = this.popMark();
          break;
        case OP.DUP:
          this.push(this.top());
          break;

        case OP.NONE:
          this.push(null);
          break;
        case OP.NEWTRUE:
          this.push(true);
          break;
        case OP.NEWFALSE:
          this.push(false);
          break;
        case OP.BININT1:
        case OP.BININT2:
        case OP.BININT:
          // Token ids are most of a dump's opcodes: read the whole run of small ints in one loop.
          this.pos--;
          this.intRun();
          break;
        case OP.LONG1:
          this.pushLong(this.u8());
          break;
        case OP.LONG4: {
          const n = this.i32();
          if (n < 0) throw this.bad('negative LONG4 length');
          this.pushLong(n);
          break;
        }
        case OP.BINFLOAT:
          this.need(8);
          this.push(this.buf.readDoubleBE(this.pos));
          this.pos += 8;
          break;
        case OP.INT:
          this.push(this.intLine());
          break;
        case OP.LONG:
          this.push(this.longLine());
          break;
        case OP.FLOAT:
          this.push(this.floatLine());
          break;

        case OP.SHORT_BINUNICODE:
          this.push(this.text(this.u8(), 'utf8'));
          break;
        case OP.BINUNICODE:
          this.push(this.text(this.u32(), 'utf8'));
          break;
        case OP.BINUNICODE8:
          this.push(this.text(this.u64(), 'utf8'));
          break;
        case OP.SHORT_BINSTRING:
          this.push(this.text(this.u8(), 'latin1'));
          break;
        case OP.BINSTRING: {
          const n = this.i32();
          if (n < 0) throw this.bad('negative BINSTRING length');
          this.push(this.text(n, 'latin1'));
          break;
        }
        case OP.STRING:
          this.push(this.stringLine());
          break;
        case OP.UNICODE:
          this.push(this.unicodeLine());
          break;
        case OP.SHORT_BINBYTES:
          this.push(new PyBytes(this.bytes(this.u8()), false));
          break;
        case OP.BINBYTES:
          this.push(new PyBytes(this.bytes(this.u32()), false));
          break;
        case OP.BINBYTES8:
          this.push(new PyBytes(this.bytes(this.u64()), false));
          break;
        case OP.BYTEARRAY8:
          this.push(new PyBytes(this.bytes(this.u64()), true));
          break;
        case OP.NEXT_BUFFER:
          this.push(new PyOutOfBandBuffer(this.nextBufferIndex++));
          break;
        case OP.READONLY_BUFFER: {
          const top = this.top();
          if (top instanceof PyOutOfBandBuffer) top.isReadonly = true;
          break;
        }

        case OP.EMPTY_TUPLE:
          this.push(new PyTuple([]));
          break;
        case OP.TUPLE1:
          this.push(new PyTuple([this.pop()]));
          break;
        case OP.TUPLE2: {
          const b = this.pop();
          this.push(new PyTuple([this.pop(), b]));
          break;
        }
        case OP.TUPLE3: {
          const c = this.pop();
          const b = this.pop();
          this.push(new PyTuple([this.pop(), b, c]));
          break;
        }
        case OP.TUPLE:
          this.push(new PyTuple(this.popToMark()));
          break;
        case OP.EMPTY_LIST:
          this.charge(OBJECT_COST);
          this.push([]);
          break;
        case OP.LIST:
          this.push(this.popToMark());
          break;
        case OP.APPEND: {
          const v = this.pop();
          const list = listTarget(this.top());
          if (list === null) throw this.bad('APPEND target is not a list');
          this.grow(list.length + 1);
          list.push(v);
          break;
        }
        case OP.APPENDS: {
          // Items move straight from the stack into the list (no temporary array per batch).
          const mark = this.popMark();
          const list = listTarget(this.below(mark));
          if (list === null) throw this.bad('APPENDS target is not a list');
          const count = stack.length - mark;
          this.grow(list.length + count);
          this.charge(8 * count);
          this.workLeft -= count;
          for (let i = mark; i < stack.length; i++) list.push(stack[i]!);
          stack.length = mark;
          break;
        }
        case OP.EMPTY_DICT:
          this.charge(OBJECT_COST);
          this.push(new Map());
          break;
        case OP.DICT: {
          const mark = this.popMark();
          const dict: PyDict = new Map();
          this.setPairs(dict, mark);
          this.push(dict);
          break;
        }
        case OP.SETITEM: {
          const value = this.pop();
          const key = this.pop();
          const dict = dictTarget(this.top());
          if (dict === null) throw this.bad('SETITEM target is not a dict');
          this.grow(dict.size + 1);
          dict.set(keyOf(key, this), value);
          break;
        }
        case OP.SETITEMS: {
          const mark = this.popMark();
          const dict = dictTarget(this.below(mark));
          if (dict === null) throw this.bad('SETITEMS target is not a dict');
          this.setPairs(dict, mark);
          break;
        }
        case OP.EMPTY_SET:
          this.charge(OBJECT_COST);
          this.push(new PySet([], false));
          break;
        case OP.ADDITEMS: {
          const items = this.popToMark();
          const set = setTarget(this.top());
          if (set === null) throw this.bad('ADDITEMS target is not a set');
          this.grow(set.length + items.length);
          this.workLeft -= items.length;
          for (let i = 0; i < items.length; i++) set.push(items[i]!);
          break;
        }
        case OP.FROZENSET:
          this.push(new PySet(this.popToMark(), true));
          break;

        case OP.GLOBAL: {
          const module = this.line(MAX_NAME_LINE);
          const name = this.line(MAX_NAME_LINE);
          this.push(makeGlobal(module, name));
          break;
        }
        case OP.STACK_GLOBAL: {
          const name = keyOf(this.pop(), this);
          const module = keyOf(this.pop(), this);
          if (typeof module !== 'string' || typeof name !== 'string') throw this.bad('STACK_GLOBAL needs two strings');
          this.push(makeGlobal(module, name));
          break;
        }
        case OP.REDUCE: {
          const args = this.pop();
          const callable = this.pop();
          if (!(args instanceof PyTuple)) throw this.bad('REDUCE arguments are not a tuple');
          this.charge(OBJECT_COST);
          this.push(reduce(callable, args.items, this));
          break;
        }
        case OP.NEWOBJ: {
          const args = this.pop();
          const cls = this.pop();
          if (!(args instanceof PyTuple)) throw this.bad('NEWOBJ arguments are not a tuple');
          this.charge(OBJECT_COST);
          this.push(newObject(cls, args.items, null, 'newobj', this));
          break;
        }
        case OP.NEWOBJ_EX: {
          const kwargs = this.pop();
          const args = this.pop();
          const cls = this.pop();
          if (!(args instanceof PyTuple) || !(kwargs instanceof Map)) throw this.bad('NEWOBJ_EX needs a tuple and a dict');
          this.charge(OBJECT_COST);
          this.push(newObject(cls, args.items, kwargs, 'newobj_ex', this));
          break;
        }
        case OP.INST: {
          const module = this.line(MAX_NAME_LINE);
          const name = this.line(MAX_NAME_LINE);
          const args = this.popToMark();
          this.charge(OBJECT_COST);
          this.push(newObject(makeGlobal(module, name), args, null, 'inst', this));
          break;
        }
        case OP.OBJ: {
          const items = this.popToMark();
          if (items.length === 0) throw this.bad('OBJ without a class');
          this.charge(OBJECT_COST);
          this.push(newObject(items[0]!, items.slice(1), null, 'obj', this));
          break;
        }
        case OP.BUILD: {
          const state = this.pop();
          build(this.top(), state, this);
          break;
        }
        case OP.PERSID:
          this.push(new PyPersistentRef(decodeRawUnicodeEscape(this.line(MAX_NAME_LINE)) ?? ''));
          break;
        case OP.BINPERSID:
          this.push(new PyPersistentRef(this.pop()));
          break;
        case OP.EXT1:
          this.push(new PyExtensionRef(this.u8()));
          break;
        case OP.EXT2:
          this.need(2);
          this.push(new PyExtensionRef(this.buf.readUInt16LE(this.pos)));
          this.pos += 2;
          break;
        case OP.EXT4:
          this.push(new PyExtensionRef(this.u32()));
          break;

        case OP.MEMOIZE:
          this.memoSet(this.memoCount, this.top());
          break;
        case OP.BINPUT:
          this.memoSet(this.u8(), this.top());
          break;
        case OP.LONG_BINPUT:
          this.memoSet(this.u32(), this.top());
          break;
        case OP.PUT:
          this.memoSet(this.memoIndexLine(), this.top());
          break;
        case OP.BINGET:
          this.push(this.memoGet(this.u8()));
          break;
        case OP.LONG_BINGET:
          this.push(this.memoGet(this.u32()));
          break;
        case OP.GET:
          this.push(this.memoGet(this.memoIndexLine()));
          break;

        default:
          throw this.bad(this.opAt === 0 ? `not a pickle: first byte 0x${op.toString(16).padStart(2, '0')} is no opcode` : `unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
  }
}
