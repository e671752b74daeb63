/**
 * What the pickle reader produces: plain data plus inert records. Nothing here can run code: a
 * "class" is only its dotted name, and an object is only the arguments and state the pickle gave it.
 *
 * Python → here:
 *   None/bool/float/str  → null/boolean/number/string (a str of lazyTextBytes or more → PyText)
 *   int                  → number when it is a safe integer, else bigint
 *   list                 → PickleValue[]
 *   dict                 → Map (keys keep their Python type; insertion order kept)
 *   tuple / set          → PyTuple / PySet
 *   bytes / bytearray    → PyBytes
 *   class or function    → PyGlobal {module, name}
 *   instance / call      → PyObject (class ref, args, kwargs, state, fields)
 */
export type PickleScalar = null | boolean | number | bigint | string;

export type PickleValue =
  | PickleScalar
  | PyText
  | PickleValue[]
  | PyDict
  | PyTuple
  | PySet
  | PyBytes
  | PyGlobal
  | PyObject
  | PyPersistentRef
  | PyExtensionRef
  | PyOutOfBandBuffer;

export type PyDict = Map<PickleValue, PickleValue>;

/** Where a PyText's bytes live: the caller's buffer, or the dump file itself. */
export interface TextStore {
  /** `length` bytes from absolute input `offset` (may throw if a file changed since it was read). */
  read(offset: number, length: number): Buffer;
}

/**
 * A Python str too long to decode while reading (prompts, outputs): a reference to its encoded bytes
 * in the input, decoded on demand. Dumps are mostly such text, and a summary needs only previews,
 * so a 200 MB dump reads without a second copy of itself in memory (docs/pickle-evaluation.md).
 */
export class PyText {
  /** The decoded text once it was needed as a dict key (keys are compared by value). */
  private keyText: string | undefined = undefined;

  constructor(
    private readonly store: TextStore,
    /** Absolute offset of the first byte in the input. */
    readonly offset: number,
    readonly byteLength: number,
    readonly encoding: 'utf8' | 'latin1',
    /** The first bytes, kept while reading so previews need no second read of the file. */
    private readonly head: Buffer | null = null,
  ) {}

  /** The encoded bytes (a view of a buffer input, or a fresh read of a file input). */
  bytes(): Buffer {
    return this.store.read(this.offset, this.byteLength);
  }

  toString(): string {
    return this.bytes().toString(this.encoding);
  }

  /** The text as a dict key: decoded once and kept, however many dicts use it. */
  asKey(): { text: string; fresh: boolean } {
    if (this.keyText !== undefined) return { text: this.keyText, fresh: false };
    this.keyText = this.toString();
    return { text: this.keyText, fresh: true };
  }

  /** The first `chars` characters (UTF-16 units), decoding only what that needs. */
  preview(chars: number): string {
    const take = Math.min(this.byteLength, chars * 4);
    const bytes = this.head && this.head.length >= take ? this.head.subarray(0, take) : this.store.read(this.offset, take);
    let text = bytes.toString(this.encoding);
    if (take < this.byteLength && text.endsWith('\uFFFD')) text = text.slice(0, -1); // a cut multi-byte character
    if (text.length <= chars) return text;
    text = text.slice(0, chars);
    const last = text.charCodeAt(text.length - 1);
    return last >= 0xd800 && last <= 0xdbff ? text.slice(0, -1) : text;
  }
}

export class PyTuple {
  constructor(readonly items: PickleValue[]) {}
}

export class PySet {
  constructor(
    readonly items: PickleValue[],
    readonly frozen: boolean,
  ) {}
}

export class PyBytes {
  constructor(
    /** Owned by this value, or a view of a caller's input buffer (never of the reader's sliding window). */
    readonly data: Buffer,
    /** bytearray rather than bytes. */
    readonly mutable: boolean,
  ) {}
}

/** A reference to a module attribute, by name only. Never imported, never called. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}

/** How the pickle asked for the object to come into being. */
export type Construction = 'reduce' | 'newobj' | 'newobj_ex' | 'inst' | 'obj' | 'reconstructor';

/**
 * An inert record of "call `cls` with these arguments, then apply this state". Dataclasses come out
 * with `fields` (their `__dict__`, merged with `__slots__` values); other state stays in `state`.
 */
export class PyObject {
  /** `__setstate__` argument that was not a field mapping (lists, scalars, custom tuples). */
  state: PickleValue | undefined = undefined;
  /** Instance attributes: the BUILD state dict merged with the slots dict. */
  fields: PyDict | null = null;
  /** APPEND(S) applied to it (a list subclass). */
  listItems: PickleValue[] | null = null;
  /** SETITEM(S) applied to it (a dict subclass). */
  dictItems: PyDict | null = null;

  constructor(
    /** Usually a PyGlobal; a pickle may put any value in the callable's place. */
    readonly cls: PickleValue,
    readonly construction: Construction,
    readonly args: PickleValue[],
    readonly kwargs: PyDict | null = null,
  ) {}

  /** "module.Name" of the class, or "<callable>" when the callable is not a class reference. */
  get className(): string {
    return this.cls instanceof PyGlobal ? this.cls.qualname : '<callable>';
  }

  /**
   * `Cls(value)` with one scalar argument and nothing else: how an Enum member pickles. A few
   * value types that reduce the same way (Decimal, Path) are excluded by module.
   */
  get isEnumLike(): boolean {
    return (
      this.construction === 'reduce' &&
      this.cls instanceof PyGlobal &&
      /^[A-Z]/.test(this.cls.name) && // a class (CapWords), not a function such as os.system
      !NOT_ENUM_MODULES.has(this.cls.module) &&
      this.args.length === 1 &&
      isScalar(this.args[0]) &&
      this.kwargs === null &&
      this.state === undefined &&
      this.fields === null &&
      this.listItems === null &&
      this.dictItems === null
    );
  }

  /** A field from the instance state, or undefined when absent. */
  field(name: string): PickleValue | undefined {
    return this.fields?.get(name);
  }
}

const NOT_ENUM_MODULES = new Set(['builtins', 'decimal', 'fractions', 'pathlib', 'datetime', 'ipaddress', 'uuid', 'numpy', 'torch']);

/** PERSID / BINPERSID: an id the pickler resolved outside the stream. We keep only the id. */
export class PyPersistentRef {
  constructor(readonly pid: PickleValue) {}
}

/** EXT1/2/4: a copyreg extension code. Not resolved. */
export class PyExtensionRef {
  constructor(readonly code: number) {}
}

/** Protocol-5 NEXT_BUFFER: data passed out of band, which a file never carries. */
export class PyOutOfBandBuffer {
  /** READONLY_BUFFER was applied to it. */
  isReadonly = false;
  constructor(readonly index: number) {}
}

export function isScalar(value: unknown): value is PickleScalar {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint';
}

/** Dict lookup by string key, tolerant of non-dicts. */
export function dictGet(value: PickleValue | undefined, key: string): PickleValue | undefined {
  return value instanceof Map ? value.get(key) : undefined;
}

/**
 * A named attribute of a record or a key of a dict: dataclass fields and plain dicts read the same
 * way, since dumps mix them (sampling_params is a dict, ServerArgs a dataclass).
 */
export function attr(value: PickleValue | undefined, name: string): PickleValue | undefined {
  if (value instanceof PyObject) return value.fields?.get(name) ?? value.dictItems?.get(name);
  if (value instanceof Map) return value.get(name);
  return undefined;
}

/** The items of any sequence-like value (list, tuple, set), else null. */
export function sequenceItems(value: PickleValue | undefined): PickleValue[] | null {
  if (Array.isArray(value)) return value;
  if (value instanceof PyTuple || value instanceof PySet) return value.items;
  if (value instanceof PyObject && value.listItems) return value.listItems;
  return null;
}

/** Number from an int or float value (bigint narrowed), else undefined. */
export function asNumber(value: PickleValue | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}

/** A str value as a JS string (decoding a PyText), else undefined. */
export function asString(value: PickleValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof PyText) return value.toString();
  return undefined;
}

export function isText(value: PickleValue | undefined): value is string | PyText {
  return typeof value === 'string' || value instanceof PyText;
}

/** Length in characters of a str value (UTF-8 bytes for a PyText, which is close for prompts), else 0. */
export function textLength(value: PickleValue | undefined): number {
  if (typeof value === 'string') return value.length;
  if (value instanceof PyText) return value.byteLength;
  return 0;
}

/** The first `chars` characters of a str value without decoding the rest. */
export function textPreview(value: PickleValue | undefined, chars: number): string | undefined {
  if (typeof value === 'string') return value.length <= chars ? value : value.slice(0, chars);
  if (value instanceof PyText) return value.preview(chars);
  return undefined;
}
