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

export function makeGlobal(module: string, name: string): PyGlobal {
  return new PyGlobal(MODULE_ALIASES[module] ?? module, name);
}

type Interpreter = (args: PickleValue[], kwargs: PyDict | null) => PickleValue | undefined;

/** Callables whose effect is to build plain data. Returning undefined falls back to a record. */
const DATA_CALLABLES: Record<string, Interpreter> = {
  'builtins.set': (args) => new PySet(itemsOfIterable(args[0]) ?? [], false),
  'builtins.frozenset': (args) => new PySet(itemsOfIterable(args[0]) ?? [], true),
  'builtins.list': (args) => (args.length === 0 ? [] : itemsOfIterable(args[0])?.slice()),
  'builtins.tuple': (args) => new PyTuple(args.length === 0 ? [] : (itemsOfIterable(args[0])?.slice() ?? [])),
  'builtins.dict': (args, kwargs) => (args.length === 0 ? new Map(kwargs ?? []) : dictFromPairs(args[0])),
  'builtins.bytes': (args) => (args.length === 0 ? new PyBytes(Buffer.alloc(0), false) : bytesFrom(args, false)),
  'builtins.bytearray': (args) => (args.length === 0 ? new PyBytes(Buffer.alloc(0), true) : bytesFrom(args, true)),
  // Protocols 0–2 write bytes as _codecs.encode(latin1_text, 'latin1').
  '_codecs.encode': (args) => bytesFrom(args, false),
  'collections.OrderedDict': (args) => (args.length === 0 ? new Map() : dictFromPairs(args[0])),
  'collections.defaultdict': () => new Map(), // default_factory dropped; items follow via SETITEMS
  'collections.deque': (args) => (args.length === 0 ? [] : itemsOfIterable(args[0])?.slice()),
};

/** REDUCE: `callable(*args)`. */
export function reduce(callable: PickleValue, args: PickleValue[]): PickleValue {
  if (callable instanceof PyGlobal) {
    const name = callable.qualname;
    if (name === 'copyreg._reconstructor') return reconstructor(args);
    if (name === 'copyreg.__newobj__') return newObject(args[0] ?? null, args.slice(1), null, 'newobj');
    if (name === 'copyreg.__newobj_ex__') {
      const kwargs = args[2] instanceof Map ? args[2] : null;
      return newObject(args[0] ?? null, args[1] instanceof PyTuple ? args[1].items : [], kwargs, 'newobj_ex');
    }
    const data = DATA_CALLABLES[name]?.(args, null);
    if (data !== undefined) return data;
  }
  return new PyObject(callable, 'reduce', args);
}

/** NEWOBJ / NEWOBJ_EX / INST / OBJ: `cls.__new__(cls, *args, **kwargs)`. */
export function newObject(cls: PickleValue, args: PickleValue[], kwargs: PyDict | null, construction: Construction): PickleValue {
  if (cls instanceof PyGlobal) {
    const data = DATA_CALLABLES[cls.qualname]?.(args, kwargs);
    if (data !== undefined) return data;
  }
  return new PyObject(cls, construction, args, kwargs);
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
export function build(target: PickleValue, state: PickleValue): void {
  if (!(target instanceof PyObject)) return;
  if (state instanceof Map && allStringKeys(state)) {
    target.fields = mergeInto(target.fields, state);
    return;
  }
  if (state instanceof PyTuple && state.items.length === 2) {
    const [dict, slots] = state.items;
    const dictOk = dict === null || (dict instanceof Map && allStringKeys(dict));
    const slotsOk = slots === null || (slots instanceof Map && allStringKeys(slots));
    if (dictOk && slotsOk) {
      if (dict instanceof Map) target.fields = mergeInto(target.fields, dict);
      if (slots instanceof Map) target.fields = mergeInto(target.fields, slots);
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

/** The first state dict is adopted as is (no copy: dumps hold thousands of them); later ones merge into a copy. */
function mergeInto(into: PyDict | null, from: PyDict): PyDict {
  if (!into) return from;
  into = new Map(into);
  for (const [k, v] of from) into.set(k, v);
  return into;
}

function allStringKeys(map: PyDict): boolean {
  for (const key of map.keys()) if (typeof key !== 'string') return false;
  return true;
}

function itemsOfIterable(value: PickleValue | undefined): PickleValue[] | null {
  if (Array.isArray(value)) return value;
  if (value instanceof PyTuple || value instanceof PySet) return value.items;
  if (value instanceof Map) return [...value.keys()];
  return null;
}

function dictFromPairs(value: PickleValue | undefined): PyDict | undefined {
  if (value instanceof Map) return new Map(value);
  const items = itemsOfIterable(value);
  if (!items) return undefined;
  const out: PyDict = new Map();
  for (const pair of items) {
    const kv = itemsOfIterable(pair);
    if (!kv || kv.length !== 2) return undefined;
    out.set(kv[0]!, kv[1]!);
  }
  return out;
}

/** bytes(b) / bytearray(b) / _codecs.encode(text, 'latin1') / bytearray(text, 'latin-1'). */
function bytesFrom(args: PickleValue[], mutable: boolean): PyBytes | undefined {
  const [head, encoding] = args;
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
