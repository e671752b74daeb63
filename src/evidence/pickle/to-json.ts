/**
 * Pickle values → JSON values, iteratively (an explicit frame stack; no recursion), with bounds on
 * depth, node count and string volume: a pickle can reference one big string from many places, so
 * the JSON can be far larger than the pickle unless it is bounded here.
 *
 * Mapping (documented in docs/pickle-evaluation.md):
 *   tuple, list, set, frozenset  → array
 *   dict                         → object; non-string keys become their JSON text ("1", "null", "true")
 *   int beyond 2^53              → decimal string;  NaN / ±inf → "NaN" / "Infinity" / "-Infinity"
 *   bytes, bytearray             → {"$bytes": base64, "length": n} — at most `maxInlineBytes` are
 *                                  encoded; longer values carry the first 64 bytes and "truncated": true
 *                                  (mode "base64": the whole value as a plain base64 string)
 *   class or function reference  → "module.name"
 *   object record                → {"$class": "module.Name", ...fields}; without a field dict:
 *                                  {"$class", "$args", "$kwargs"?, "$state"?}; plus "$items"/"$dict"
 *                                  for list/dict subclasses (mode "fields": a dataclass is its fields only)
 *   enum member                  → {"$enum": "module.Cls", "value": v}   (mode "fields": v)
 *   out-of-band buffer, ext, persistent id → {"$outOfBandBuffer": i}, {"$ext": code}, {"$persistent": pid}
 *   a container inside itself    → {"$cycle": "<type>"}
 *   int of more than 4300 digits → "0x…" hex (CPython's own str(int) refuses past 4300 digits;
 *                                  decimal conversion is quadratic, hex is linear)
 *
 * Objects have a null prototype, so a `__proto__` key is plain data. Every value emitted is charged
 * to the load's DecodeBudget when one is given (budget.ts). With `onLimit: 'cut'` a bound does not
 * throw: the value is cut where the bound was reached (`{"$cut": why}`) and the cuts are reported.
 */
import { TriageError } from '../../errors.js';
import type { DecodeBudget } from './budget.js';
import { PyBytes, PyExtensionRef, PyGlobal, PyObject, PyOutOfBandBuffer, PyPersistentRef, PySet, PyText, PyTuple, type PickleValue } from './values.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface ToJsonOptions {
  maxDepth?: number;
  /** Values emitted, all levels together. */
  maxNodes?: number;
  /** Characters of strings emitted (keys included), all together. */
  maxStringChars?: number;
  bytes?: 'tagged' | 'base64';
  maxInlineBytes?: number;
  records?: 'tagged' | 'fields';
  /** The load's shared budget: every node and character emitted is charged to it. */
  budget?: DecodeBudget;
  /** What is being converted, for budget messages ("server_args", "request 12's body"). */
  what?: string;
  /** 'throw' (default): E_LIMIT on a bound; 'cut': stop there, mark it, and report it in `cuts`. */
  onLimit?: 'throw' | 'cut';
  /** Filled with what was cut (onLimit 'cut'). */
  cuts?: JsonCut[];
}

export interface JsonCut {
  /** Dotted path of the value that was cut ("a.b[3]"). */
  path: string;
  why: string;
}

const DEFAULTS = {
  maxDepth: 1000,
  maxNodes: 20_000_000,
  maxStringChars: 1024 * 1024 * 1024,
  bytes: 'tagged' as 'tagged' | 'base64',
  maxInlineBytes: 4096,
  records: 'tagged' as 'tagged' | 'fields',
};

const BYTES_PREVIEW = 64;
/** Budget cost of one emitted value beyond its characters. */
export const JSON_NODE_BYTES = 16;
/** ~4300 decimal digits (CPython's int_max_str_digits default). */
const MAX_DECIMAL_BITS = 14_284;

type Entries = Array<[string, PickleValue]>;
/** Where a subtree's walk started (measure mode caches what each shared subtree costs). */
interface Marks {
  cost0: number;
  nodes0: number;
  chars0: number;
  /** Levels below this container (0: only scalars inside). */
  depthBelow: number;
}
type Frame =
  | ({ kind: 'array'; source: object; items: PickleValue[]; i: number; out: JsonValue[]; path: string } & Marks)
  | ({ kind: 'object'; source: object; entries: Entries; i: number; out: { [key: string]: JsonValue }; path: string } & Marks);

/** What a subtree cost when first walked: charged again, whole, each time it is referenced. */
interface SubtreeCost {
  cost: number;
  nodes: number;
  chars: number;
  depth: number;
}

class Cut extends Error {}

/** Converts a pickle value to JSON. Throws E_LIMIT when a bound is exceeded (unless onLimit is 'cut'). */
export function pickleToJson(value: PickleValue, options: ToJsonOptions = {}): JsonValue {
  return convert(value, options, true).root;
}

/**
 * What pickleToJson would charge for `value`, without building it or decoding long text: the
 * replay charges every body this way when the dump is loaded, then builds each one as it is sent.
 */
export function measureJson(value: PickleValue, options: ToJsonOptions = {}): number {
  return convert(value, options, false).cost;
}

function convert(value: PickleValue, options: ToJsonOptions, build: boolean): { root: JsonValue; cost: number } {
  const opts = {
    maxDepth: options.maxDepth ?? DEFAULTS.maxDepth,
    maxNodes: options.maxNodes ?? DEFAULTS.maxNodes,
    maxStringChars: options.maxStringChars ?? DEFAULTS.maxStringChars,
    bytes: options.bytes ?? DEFAULTS.bytes,
    maxInlineBytes: options.maxInlineBytes ?? DEFAULTS.maxInlineBytes,
    records: options.records ?? DEFAULTS.records,
  };
  const budget = options.budget;
  const what = options.what ?? 'converting to JSON';
  const cutMode = options.onLimit === 'cut';
  let nodes = 0;
  let chars = 0;
  let cost = 0;
  const frames: Frame[] = [];
  const onPath = new Set<object>();
  /**
   * Measure mode: a container referenced from many places (memo amplification) is walked once and
   * then charged its full cost per reference, so measuring a billion-node DAG takes as long as its
   * few distinct nodes, while the charge is the billion.
   */
  const seen = build ? null : new Map<object, SubtreeCost>();
  let currentPath = '';

  const over = (why: string): never => {
    if (cutMode) throw new Cut(why);
    throw limit(why);
  };
  const spend = (bytes: number) => {
    cost += bytes;
    if (budget && !budget.tryCharge(bytes)) throw budget.exhausted(what);
  };
  const addChars = (n: number) => {
    chars += n;
    if (chars > opts.maxStringChars) over(`more than ${opts.maxStringChars} characters of strings`);
    spend(n);
    budget?.work(n >> 6, what);
  };
  const countString = (s: string): string => {
    addChars(s.length);
    return s;
  };

  /** Converts a scalar directly; for a container, pushes a frame and returns its (empty) output. */
  const start = (v: PickleValue, path: string): JsonValue => {
    if (++nodes > opts.maxNodes) over(`more than ${opts.maxNodes} values`);
    spend(JSON_NODE_BYTES);
    budget?.work(1, what);
    if (v === null || typeof v === 'boolean') return v;
    if (typeof v === 'string') return countString(v);
    if (v instanceof PyText) {
      if (chars + v.byteLength / 3 > opts.maxStringChars) over(`more than ${opts.maxStringChars} characters of strings`);
      if (!build) {
        addChars(v.byteLength);
        return null;
      }
      return countString(v.toString());
    }
    if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
    if (typeof v === 'bigint') return countString(bigintText(v));
    if (v instanceof PyGlobal) return countString(v.qualname);
    if (v instanceof PyBytes) {
      if (build) return bytesJson(v, opts, countString);
      addChars(opts.bytes === 'base64' || v.data.length <= opts.maxInlineBytes ? Math.ceil(v.data.length / 3) * 4 : 88);
      return null;
    }
    if (v instanceof PyOutOfBandBuffer) return { $outOfBandBuffer: v.index, readonly: v.isReadonly };
    if (v instanceof PyExtensionRef) return { $ext: v.code };
    if (v instanceof PyObject && v.isEnumLike) {
      const inner = v.args[0] as PickleValue;
      if (opts.records === 'fields') return start(inner, path);
      return open('object', v, [
        ['$enum', v.className],
        ['value', inner],
      ], path);
    }
    if (onPath.has(v)) return { $cycle: typeName(v) };
    if (Array.isArray(v)) return open('array', v, v, path);
    if (v instanceof PyTuple || v instanceof PySet) return open('array', v, v.items, path);
    if (v instanceof Map) return open('object', v, mapEntries(v), path);
    if (v instanceof PyPersistentRef) return open('object', v, [['$persistent', v.pid]], path);
    return open('object', v, recordEntries(v, opts.records), path);
  };

  const open = (kind: 'array' | 'object', source: object, content: PickleValue[] | Entries, path: string): JsonValue => {
    if (frames.length >= opts.maxDepth) {
      if (cutMode) {
        options.cuts?.push({ path, why: `nested deeper than ${opts.maxDepth} levels` });
        return { $cut: `nested deeper than ${opts.maxDepth} levels` } as JsonValue;
      }
      throw limit(`nesting deeper than ${opts.maxDepth}`);
    }
    const known = seen?.get(source);
    if (known && frames.length + known.depth < opts.maxDepth) {
      // Charge the whole subtree again (its node of this reference was counted by start()).
      nodes += known.nodes - 1;
      if (nodes > opts.maxNodes) over(`more than ${opts.maxNodes} values`);
      chars += known.chars;
      if (chars > opts.maxStringChars) over(`more than ${opts.maxStringChars} characters of strings`);
      spend(known.cost - JSON_NODE_BYTES);
      budget?.work(1, what);
      noteDepth(known.depth);
      return null;
    }
    if (kind === 'array') {
      const numbers = numberRun(content as PickleValue[]);
      if (numbers !== null) {
        if (seen) noteDepth(0);
        return numbers;
      }
    }
    onPath.add(source);
    // start() already counted this container's own node.
    const marks: Marks = { cost0: cost - JSON_NODE_BYTES, nodes0: nodes - 1, chars0: chars, depthBelow: 0 };
    if (kind === 'array') {
      const out: JsonValue[] = [];
      frames.push({ kind, source, items: content as PickleValue[], i: 0, out, path, ...marks });
      return out;
    }
    const out = Object.create(null) as { [key: string]: JsonValue };
    frames.push({ kind, source, entries: content as Entries, i: 0, out, path, ...marks });
    return out;
  };

  /** The innermost open container now holds something `depth` levels deep. */
  const noteDepth = (depth: number) => {
    const top = frames[frames.length - 1];
    if (top && top.depthBelow < depth + 1) top.depthBelow = depth + 1;
  };

  /** A list of plain numbers (token ids: most of a dump) converted in one loop, no frame per item. */
  const numberRun = (items: PickleValue[]): JsonValue[] | null => {
    const n = items.length;
    if (n < 8) return null;
    for (let i = 0; i < n; i++) if (typeof items[i] !== 'number') return null;
    nodes += n;
    if (nodes > opts.maxNodes) over(`more than ${opts.maxNodes} values`);
    spend(JSON_NODE_BYTES * n);
    budget?.work(n, what);
    if (!build) return [];
    const out: JsonValue[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const v = items[i] as number;
      out[i] = Number.isFinite(v) ? v : String(v);
    }
    return out;
  };

  let root: JsonValue = null;
  try {
    root = start(value, '');
    while (frames.length) {
      const frame = frames[frames.length - 1]!;
      if (frame.kind === 'array') {
        if (frame.i < frame.items.length) {
          const at = frame.i++;
          if (cutMode) currentPath = `${frame.path}[${at}]`;
          const child = start(frame.items[at]!, currentPath);
          if (build) frame.out.push(child);
          continue;
        }
      } else if (frame.i < frame.entries.length) {
        const [key, child] = frame.entries[frame.i++]!;
        if (cutMode) currentPath = frame.path ? `${frame.path}.${key}` : key;
        countString(key);
        const json = start(child, currentPath);
        if (build) frame.out[key] = json;
        continue;
      }
      frames.pop();
      onPath.delete(frame.source);
      if (seen) {
        seen.set(frame.source, { cost: cost - frame.cost0, nodes: nodes - frame.nodes0, chars: chars - frame.chars0, depth: frame.depthBelow });
        noteDepth(frame.depthBelow);
      }
    }
  } catch (err) {
    if (!(err instanceof Cut)) throw err;
    // Close every open container where it stands, marking the innermost one.
    options.cuts?.push({ path: currentPath, why: err.message });
    const top = frames[frames.length - 1];
    if (top && build) {
      if (top.kind === 'array') top.out.push({ $cut: err.message });
      else top.out.$cut = err.message;
    }
    if (!top) root = { $cut: err.message };
  }
  return { root, cost };
}

/** Decimal up to ~4300 digits, hex beyond (linear time whatever the size). */
function bigintText(v: bigint): string {
  const hex = (v < 0n ? -v : v).toString(16);
  if (hex.length * 4 <= MAX_DECIMAL_BITS) return v.toString();
  return `${v < 0n ? '-' : ''}0x${hex}`;
}

function recordEntries(obj: PyObject, mode: 'tagged' | 'fields'): Entries {
  const entries: Entries = [];
  const plain = mode === 'fields' && obj.fields !== null;
  if (!plain) entries.push(['$class', obj.className]);
  if (obj.fields) {
    let complex = 0;
    for (const [k, v] of obj.fields) entries.push([typeof k === 'string' ? k : (keyText(k) ?? `$key${complex++}`), v]);
  } else {
    entries.push(['$args', obj.args]);
    if (obj.kwargs) entries.push(['$kwargs', obj.kwargs]);
  }
  if (obj.state !== undefined) entries.push(['$state', obj.state]);
  if (obj.listItems) entries.push(['$items', obj.listItems]);
  if (obj.dictItems) entries.push(['$dict', obj.dictItems]);
  return entries;
}

function mapEntries(map: Map<PickleValue, PickleValue>): Entries {
  const entries: Entries = [];
  let complex = 0;
  for (const [k, v] of map) entries.push([keyText(k) ?? `$key${complex++}`, v]);
  return entries;
}

/** Python json.dumps' rules for scalar keys; null for keys JSON cannot name (tuples, objects). */
function keyText(key: PickleValue): string | null {
  if (typeof key === 'string') return key;
  if (key instanceof PyText) return key.toString();
  if (key === null) return 'null';
  if (typeof key === 'boolean') return key ? 'true' : 'false';
  if (typeof key === 'number') return String(key);
  if (typeof key === 'bigint') return bigintText(key);
  if (key instanceof PyGlobal) return key.qualname;
  return null;
}

function bytesJson(v: PyBytes, opts: { bytes: 'tagged' | 'base64'; maxInlineBytes: number }, countString: (s: string) => string): JsonValue {
  if (opts.bytes === 'base64') return countString(v.data.toString('base64'));
  if (v.data.length <= opts.maxInlineBytes) return { $bytes: countString(v.data.toString('base64')), length: v.data.length };
  return { $bytes: countString(v.data.subarray(0, BYTES_PREVIEW).toString('base64')), length: v.data.length, truncated: true };
}

function typeName(v: object): string {
  if (Array.isArray(v)) return 'list';
  if (v instanceof Map) return 'dict';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PySet) return v.frozen ? 'frozenset' : 'set';
  if (v instanceof PyObject) return v.className;
  return 'object';
}

function limit(what: string): TriageError {
  return new TriageError('E_LIMIT', `pickle to JSON: ${what}`, { details: { what } });
}
