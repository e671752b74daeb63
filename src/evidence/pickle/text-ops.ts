/**
 * Decoders for the textual (protocol 0) argument forms and for variable-length integers. Pure
 * functions over strings and bytes; each returns null for malformed input so the reader can raise
 * an error that names the opcode and offset.
 */

const DECIMAL = /^[+-]?\d+$/;

/** A safe integer as number, anything larger as bigint. */
export function narrow(value: bigint): number | bigint {
  return value >= -9007199254740991n && value <= 9007199254740991n ? Number(value) : value;
}

/** INT argument: "00"/"01" are False/True (protocol 0 bools), else a decimal integer. */
export function parseIntLine(line: string): number | bigint | boolean | null {
  if (line === '00') return false;
  if (line === '01') return true;
  return parseDecimal(line);
}

/** LONG argument: decimal digits with Python 2's trailing "L". */
export function parseLongLine(line: string): number | bigint | null {
  return parseDecimal(line.endsWith('L') ? line.slice(0, -1) : line);
}

function parseDecimal(text: string): number | bigint | null {
  if (!DECIMAL.test(text)) return null;
  if (text.length < 16) return Number(text);
  return narrow(BigInt(text));
}

/** FLOAT argument: Python's repr of a float, including inf and nan. */
export function parseFloatLine(line: string): number | null {
  const text = line.trim().toLowerCase();
  if (text === 'inf' || text === '+inf') return Infinity;
  if (text === '-inf') return -Infinity;
  if (text === 'nan' || text === '-nan' || text === '+nan') return NaN;
  if (text === '' || !/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/.test(text)) return null;
  return Number(text);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\n': '',
};

/**
 * STRING argument: a quoted Python 2 `str` literal (`'abc\n'`). Returns its bytes as a latin1
 * string (CPython would decode with the unpickler's encoding; latin1 never fails).
 */
export function decodeStringLiteral(line: string): string | null {
  const quote = line[0];
  if (line.length < 2 || (quote !== "'" && quote !== '"') || line[line.length - 1] !== quote) return null;
  const body = line.slice(1, -1);
  if (!body.includes('\\')) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = body[++i];
    if (next === undefined) return null;
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      out += simple;
    } else if (next === 'x') {
      const hex = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else if (next >= '0' && next <= '7') {
      const oct = /^[0-7]{1,3}/.exec(body.slice(i, i + 3))![0];
      out += String.fromCharCode(parseInt(oct, 8) & 0xff);
      i += oct.length - 1;
    } else {
      out += `\\${next}`; // Python keeps unknown escapes verbatim
    }
  }
  return out;
}

const RAW_UNICODE_ESCAPE = /\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g;

/**
 * UNICODE argument: raw-unicode-escape. Bytes below 256 stand for themselves (the caller decoded
 * them as latin1); everything else, and the pickler's escaped backslash and newline, is \uXXXX.
 */
export function decodeRawUnicodeEscape(text: string): string | null {
  if (!text.includes('\\')) return text;
  let bad = false;
  const out = text.replace(RAW_UNICODE_ESCAPE, (_m, u4: string | undefined, u8: string | undefined) => {
    const code = parseInt((u4 ?? u8)!, 16);
    if (code > 0x10ffff) {
      bad = true;
      return '';
    }
    return String.fromCodePoint(code);
  });
  return bad ? null : out;
}

/** LONG1/LONG4 payload: little-endian two's complement of `length` bytes. */
export function decodeSignedLE(buf: Uint8Array, start: number, length: number): number | bigint {
  if (length === 0) return 0;
  const last = buf[start + length - 1]!;
  const negative = last >= 0x80;
  if (length <= 6) {
    let value = 0;
    for (let i = length - 1; i >= 0; i--) value = value * 256 + buf[start + i]!;
    return negative ? value - 2 ** (8 * length) : value;
  }
  let hex = '';
  for (let i = length - 1; i >= 0; i--) hex += buf[start + i]!.toString(16).padStart(2, '0');
  let big = BigInt(`0x${hex}`);
  if (negative) big -= 1n << BigInt(8 * length);
  return narrow(big);
}
