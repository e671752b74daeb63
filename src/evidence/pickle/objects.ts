/**
 * What REDUCE, NEWOBJ, BUILD and the item-adding opcodes mean, without running anything. A short
 * list of builtins that only carry data (set, bytearray, OrderedDict, the protocol-2 bytes encoding)
 * is interpreted as that data; every other callable becomes an inert PyObject record. `os.system`
 * REDUCEd with a command is a record holding the class ref and the command string, nothing more.
 */
import { PyBytes, PyGlobal, PyObject, PySet, PyText, PyTuple, type Construction, type PickleValue, type PyDict } from './values.js';

/**
 * Python 2 module names that Python 3 writes for protocols < 3 (fix_imports), mapped back the way
 * CPython's loader does (a subset of Lib/_compat_pickle.py), so a record names the real module.
 */
const MODULE_ALIASES: Record<string, string> = {
  __builtin__: 'builtins',
  copy_reg: 'copyreg',
  commands: 'subprocess',
  exceptions: 'builtins',
  cPickle: 'pickle',
  Queue: 'queue',
  UserDict: 'collections',
  UserList: 'collections',
  repr: 'reprlib',
  thread: '_thread',
};

/**
 * What interpreting a value costs, charged to the load's budget (budget.ts). A `builtins.list` of a
 * memo'd million-item list is a million-item copy, and must cost that, however small the pickle.
 */
export interface Meter {
  charge(bytes: number, what?: string): void;
  work(units: number): void;
}

const ITEM_BYTES = 8;
const OBJECT_BYTES = 64;
/** What one entry of a copied Map costs in V8 (key, value, chain link and hash-table share). */
const MAP_ENTRY_BYTES = 40;

export function makeGlobal(module: string, name: string): PyGlobal {
  return new PyGlobal(MODULE_ALIASES[module] ?? module, name);
}

type Interpreter = (args: PickleValue[], kwargs: PyDict | null, meter: Meter, name: string) => PickleValue | undefined;

/** Callables whose effect is to build plain data. Returning undefined falls back to a record. */
const DATA_CALLABLES: Record<string, Interpreter> = {
  'builtins.set': (args, _kw, meter, name) => new PySet(copyItems(itemsOfIterable(args[0]), meter, name) ?? [], false),
  'builtins.frozenset': (args, _kw, meter, name) => new PySet(copyItems(itemsOfIterable(args[0]), meter, name) ?? [], true),
  'builtins.list': (args, _kw, meter, name) => (args.length === 0 ? [] : copyItems(itemsOfIterable(args[0]), meter, name)),
  'builtins.tuple': (args, _kw, meter, name) => new PyTuple(args.length === 0 ? [] : (copyItems(itemsOfIterable(args[0]), meter, name) ?? [])),
  'builtins.dict': (args, kwargs, meter, name) => (args.length === 0 ? copyDict(kwargs, meter, name) : dictFromPairs(args[0], meter, name)),
  'builtins.bytes': (args, _kw, meter) => (args.length === 0 ? new PyBytes(Buffer.alloc(0), false) : bytesFrom(args, false, meter)),
  'builtins.bytearray': (args, _kw, meter) => (args.length === 0 ? new PyBytes(Buffer.alloc(0), true) : bytesFrom(args, true, meter)),
  // Protocols 0–2 write bytes as _codecs.encode(latin1_text, 'latin1').
  '_codecs.encode': (args, _kw, meter) => bytesFrom(args, false, meter),
  'collections.OrderedDict': (args, _kw, meter, name) => (args.length === 0 ? new Map() : dictFromPairs(args[0], meter, name)),
  'collections.defaultdict': () => new Map(), // default_factory dropped; items follow via SETITEMS
  'collections.deque': (args, _kw, meter, name) => (args.length === 0 ? [] : copyItems(itemsOfIterable(args[0]), meter, name)),
};

/** REDUCE: `callable(*args)`. */
export function reduce(callable: PickleValue, args: PickleValue[], meter: Meter): PickleValue {
  if (callable instanceof PyGlobal) {
    const name = callable.qualname;
    if (name === 'copyreg._reconstructor') return reconstructor(args);
    if (name === 'copyreg.__newobj__') return newObject(args[0] ?? null, args.slice(1), null, 'newobj', meter);
    if (name === 'copyreg.__newobj_ex__') {
      const kwargs = args[2] instanceof Map ? args[2] : null;
      return newObject(args[0] ?? null, args[1] instanceof PyTuple ? args[1].items : [], kwargs, 'newobj_ex', meter);
    }
    const data = DATA_CALLABLES[name]?.(args, null, meter, name);
    if (data !== undefined) return data;
  }
  return new PyObject(callable, 'reduce', args);
}

/** NEWOBJ / NEWOBJ_EX / INST / OBJ: `cls.__new__(cls, *args, **kwargs)`. */
export function newObject(cls: PickleValue, args: PickleValue[], kwargs: PyDict | null, construction: Construction, meter: Meter): PickleValue {
  if (cls instanceof PyGlobal) {
    const name = cls.qualname;
    const data = DATA_CALLABLES[name]?.(args, kwargs, meter, name);
    if (data !== undefined) return data;
  }
  return new PyObject(cls, construction, args, kwargs);
}

function copyItems(items: PickleValue[] | null, meter: Meter, name: string): PickleValue[] | undefined {
  if (!items) return undefined;
  meter.charge(OBJECT_BYTES + ITEM_BYTES * items.length, `a ${items.length}-item copy (${name})`);
  meter.work(items.length);
  return items.slice();
}

function copyDict(from: PyDict | null, meter: Meter, name: string): PyDict {
  if (!from) return new Map();
  meter.charge(OBJECT_BYTES + MAP_ENTRY_BYTES * from.size, `a ${from.size}-item dict copy (${name})`);
  meter.work(from.size);
  return new Map(from);
}

/** copyreg._reconstructor(cls, base, base_state): protocols 0/1 pickling of a plain instance. */
function reconstructor(args: PickleValue[]): PickleValue {
  const [cls = null, , baseState = null] = args;
  return new PyObject(cls, 'reconstructor', baseState === null ? [] : [baseState]);
}

/**
 * BUILD: apply `state` the way object.__setstate__ would. A dict becomes the fields; a
 * `(dict_or_None, slots_dict)` pair (slot classes) merges both; anything else is kept as `state`.
 * State on non-records (an OrderedDict's attributes) carries nothing we use and is dropped.
 */
export function build(target: PickleValue, state: PickleValue, meter: Meter): void {
  if (!(target instanceof PyObject)) return;
  if (state instanceof Map && allStringKeys(state, meter)) {
    target.fields = mergeInto(target, state, meter);
    return;
  }
  if (state instanceof PyTuple && state.items.length === 2) {
    const [dict, slots] = state.items;
    const dictOk = dict === null || (dict instanceof Map && allStringKeys(dict, meter));
    const slotsOk = slots === null || (slots instanceof Map && allStringKeys(slots, meter));
    if (dictOk && slotsOk) {
      if (dict instanceof Map) target.fields = mergeInto(target, dict, meter);
      if (slots instanceof Map) target.fields = mergeInto(target, slots, meter);
      target.fields ??= new Map();
      return;
    }
  }
  target.state = state;
}

/** SETITEM(S) target: a dict, or a record of a dict subclass; null for anything else. */
export function dictTarget(target: PickleValue | undefined): PyDict | null {
  if (target instanceof Map) return target;
  if (target instanceof PyObject) return (target.dictItems ??= new Map());
  return null;
}

/** APPEND(S) target: a list, or a record of a list subclass; null for anything else. */
export function listTarget(target: PickleValue | undefined): PickleValue[] | null {
  if (Array.isArray(target)) return target;
  if (target instanceof PyObject) return (target.listItems ??= []);
  return null;
}

/** ADDITEMS target: a set; null for anything else. */
export function setTarget(target: PickleValue | undefined): PickleValue[] | null {
  return target instanceof PySet ? target.items : null;
}

/** Field maps this module made itself (merge copies), which later merges may extend in place. */
const ownedFields = new WeakSet<PyDict>();

/**
 * The first state dict is adopted as is (no copy: dumps hold thousands of them, and it may be shared
 * through the memo); a later one merges into one private copy, made once, so BUILD after BUILD on
 * one object costs the size of what is merged, never the size of what is already there.
 */
function mergeInto(target: PyObject, from: PyDict, meter: Meter): PyDict {
  let into = target.fields;
  if (!into) return from;
  if (into === from) return into;
  meter.work(from.size);
  if (!ownedFields.has(into)) {
    meter.charge(OBJECT_BYTES + MAP_ENTRY_BYTES * into.size, `a copy of a ${into.size}-field object state`);
    meter.work(into.size);
    into = new Map(into);
    ownedFields.add(into);
  }
  meter.charge(MAP_ENTRY_BYTES * from.size, `merging a ${from.size}-field object state`);
  for (const [k, v] of from) into.set(k, v);
  return into;
}

/** Maps already found to have only string keys (a memo'd state dict is checked once, not per BUILD). */
const stringKeyed = new WeakSet<PyDict>();

function allStringKeys(map: PyDict, meter: Meter): boolean {
  // Only big maps are remembered: a WeakSet entry per small state dict costs more than the scan.
  const remember = map.size >= 64;
  if (remember && stringKeyed.has(map)) return true;
  meter.work(map.size);
  for (const key of map.keys()) if (typeof key !== 'string') return false;
  if (remember) stringKeyed.add(map);
  return true;
}

/** The items of a list, tuple, set, or a dict's keys, without copying (callers copy and charge). */
function itemsOfIterable(value: PickleValue | undefined): PickleValue[] | null {
  if (Array.isArray(value)) return value;
  if (value instanceof PyTuple || value instanceof PySet) return value.items;
  if (value instanceof Map) return [...value.keys()];
  return null;
}

function dictFromPairs(value: PickleValue | undefined, meter: Meter, name: string): PyDict | undefined {
  if (value instanceof Map) return copyDict(value, meter, name);
  const items = itemsOfIterable(value);
  if (!items) return undefined;
  meter.charge(OBJECT_BYTES + MAP_ENTRY_BYTES * items.length, `a ${items.length}-item dict (${name})`);
  meter.work(items.length);
  const out: PyDict = new Map();
  for (const pair of items) {
    const kv = itemsOfIterable(pair);
    if (!kv || kv.length !== 2) return undefined;
    out.set(kv[0]!, kv[1]!);
  }
  return out;
}

/** bytes(b) / bytearray(b) / _codecs.encode(text, 'latin1') / bytearray(text, 'latin-1'). */
function bytesFrom(args: PickleValue[], mutable: boolean, meter: Meter): PyBytes | undefined {
  const [head, encoding] = args;
  if (head instanceof PyText) {
    meter.charge(3 * head.byteLength, `a ${head.byteLength}-byte text turned into bytes`);
    meter.work(head.byteLength >> 4);
  } else if (Array.isArray(head)) {
    meter.charge(head.length, `a ${head.length}-item list turned into bytes`);
    meter.work(head.length);
  }
  const first = head instanceof PyText ? head.toString() : head;
  if (first instanceof PyBytes) return new PyBytes(first.data, mutable);
  if (typeof first === 'string' && typeof encoding === 'string') {
    const enc = encoding.toLowerCase().replace(/[-_]/g, '');
    if (enc === 'latin1' || enc === 'iso88591') return new PyBytes(Buffer.from(first, 'latin1'), mutable);
    if (enc === 'utf8') return new PyBytes(Buffer.from(first, 'utf8'), mutable);
    if (enc === 'ascii') return new PyBytes(Buffer.from(first, 'latin1'), mutable);
  }
  if (Array.isArray(first) && first.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b < 256)) {
    return new PyBytes(Buffer.from(first as number[]), mutable);
  }
  return undefined;
}
