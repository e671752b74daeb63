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
 */
import { TriageError } from '../../errors.js';
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
}

const DEFAULTS: Required<ToJsonOptions> = {
  maxDepth: 1000,
  maxNodes: 20_000_000,
  maxStringChars: 1024 * 1024 * 1024,
  bytes: 'tagged',
  maxInlineBytes: 4096,
  records: 'tagged',
};

const BYTES_PREVIEW = 64;

type Entries = Array<[string, PickleValue]>;
type Frame =
  | { kind: 'array'; source: object; items: PickleValue[]; i: number; out: JsonValue[] }
  | { kind: 'object'; source: object; entries: Entries; i: number; out: { [key: string]: JsonValue } };

/** Converts a pickle value to JSON. Throws E_LIMIT when a bound is exceeded. */
export function pickleToJson(value: PickleValue, options: ToJsonOptions = {}): JsonValue {
  const opts = { ...DEFAULTS, ...options };
  let nodes = 0;
  let chars = 0;
  const frames: Frame[] = [];
  const onPath = new Set<object>();

  const countString = (s: string): string => {
    chars += s.length;
    if (chars > opts.maxStringChars) throw limit(`more than ${opts.maxStringChars} characters of strings`);
    return s;
  };

  /** Converts a scalar directly; for a container, pushes a frame and returns its (empty) output. */
  const start = (v: PickleValue): JsonValue => {
    if (++nodes > opts.maxNodes) throw limit(`more than ${opts.maxNodes} values`);
    if (v === null || typeof v === 'boolean') return v;
    if (typeof v === 'string') return countString(v);
    if (v instanceof PyText) {
      if (chars + v.byteLength / 3 > opts.maxStringChars) throw limit(`more than ${opts.maxStringChars} characters of strings`);
      return countString(v.toString());
    }
    if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
    if (typeof v === 'bigint') return countString(v.toString());
    if (v instanceof PyGlobal) return countString(v.qualname);
    if (v instanceof PyBytes) return bytesJson(v, opts, countString);
    if (v instanceof PyOutOfBandBuffer) return { $outOfBandBuffer: v.index, readonly: v.isReadonly };
    if (v instanceof PyExtensionRef) return { $ext: v.code };
    if (v instanceof PyObject && v.isEnumLike) {
      const inner = v.args[0] as PickleValue;
      if (opts.records === 'fields') return start(inner);
      return open('object', v, [
        ['$enum', v.className],
        ['value', inner],
      ]);
    }
    if (onPath.has(v)) return { $cycle: typeName(v) };
    if (Array.isArray(v)) return open('array', v, v);
    if (v instanceof PyTuple || v instanceof PySet) return open('array', v, v.items);
    if (v instanceof Map) return open('object', v, mapEntries(v));
    if (v instanceof PyPersistentRef) return open('object', v, [['$persistent', v.pid]]);
    return open('object', v, recordEntries(v, opts.records));
  };

  const open = (kind: 'array' | 'object', source: object, content: PickleValue[] | Entries): JsonValue => {
    if (frames.length >= opts.maxDepth) throw limit(`nesting deeper than ${opts.maxDepth}`);
    onPath.add(source);
    if (kind === 'array') {
      const out: JsonValue[] = [];
      frames.push({ kind, source, items: content as PickleValue[], i: 0, out });
      return out;
    }
    const out: { [key: string]: JsonValue } = {};
    frames.push({ kind, source, entries: content as Entries, i: 0, out });
    return out;
  };

  const root = start(value);
  while (frames.length) {
    const frame = frames[frames.length - 1]!;
    if (frame.kind === 'array') {
      if (frame.i < frame.items.length) {
        const child = frame.items[frame.i++]!;
        frame.out.push(start(child));
        continue;
      }
    } else if (frame.i < frame.entries.length) {
      const [key, child] = frame.entries[frame.i++]!;
      setKey(frame.out, countString(key), start(child));
      continue;
    }
    frames.pop();
    onPath.delete(frame.source);
  }
  return root;
}

function recordEntries(obj: PyObject, mode: 'tagged' | 'fields'): Entries {
  const entries: Entries = [];
  const plain = mode === 'fields' && obj.fields !== null;
  if (!plain) entries.push(['$class', obj.className]);
  if (obj.fields) {
    for (const [k, v] of obj.fields) entries.push([k as string, v]);
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
  if (typeof key === 'number') return Number.isFinite(key) ? String(key) : String(key);
  if (typeof key === 'bigint') return key.toString();
  if (key instanceof PyGlobal) return key.qualname;
  return null;
}

function setKey(out: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

function bytesJson(v: PyBytes, opts: Required<ToJsonOptions>, countString: (s: string) => string): JsonValue {
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
