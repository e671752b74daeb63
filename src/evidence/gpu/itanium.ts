/**
 * A small Itanium C++ ABI reader that recovers the BARE name of a mangled symbol: the last
 * unqualified component, without namespaces, template arguments or parameters.
 *
 *   _Z27moe_align_block_size_kernelIiEvPKT_PiS3_S3_iimS3_bii          → moe_align_block_size_kernel
 *   _ZN2at6native29vectorized_elementwise_kernelILi4ENS0_...EEviT0_T1_ → vectorized_elementwise_kernel
 *
 * It is not a demangler. It only needs to walk past template-argument lists reliably, which means
 * honouring length-prefixed identifiers (an identifier may contain an `E`) and literals (`Li4096E`).
 * Unknown constructs make it give up (null) rather than guess.
 */

const MAX_STEPS = 10_000;

class Cursor {
  pos: number;
  steps = 0;
  constructor(
    readonly s: string,
    start: number,
  ) {
    this.pos = start;
  }
  peek(offset = 0): string {
    return this.s[this.pos + offset] ?? '';
  }
  tick(): void {
    if (++this.steps > MAX_STEPS) throw new GiveUp();
  }
}

class GiveUp extends Error {}

/** Returns the bare name of an Itanium-mangled symbol, or null when it is not one we can read. */
export function itaniumBareName(mangled: string): string | null {
  const symbol = mangled.trim();
  // CUDA and clang sometimes prefix an extra underscore, or wrap device stubs as __device_stub__.
  const start = symbol.startsWith('__Z') ? 1 : 0;
  if (!symbol.startsWith('_Z', start)) return null;
  const cur = new Cursor(symbol, start + 2);
  try {
    if (cur.peek() === 'L') cur.pos++; // internal linkage marker
    return readEncodingName(cur);
  } catch (err) {
    if (err instanceof GiveUp) return null;
    throw err;
  }
}

function readEncodingName(cur: Cursor): string | null {
  const c = cur.peek();
  if (c === 'N') return readNestedName(cur);
  if (c === 'Z') {
    // Local entity: Z <function encoding> E <entity name>; the bare name is the entity's.
    cur.pos++;
    skipEncoding(cur);
    if (cur.peek() !== 'E') return null;
    cur.pos++;
    if (cur.peek() === 's') return null; // string literal
    return readEncodingName(cur);
  }
  if (c === 'S' && cur.peek(1) === 't') {
    cur.pos += 2;
    return readUnqualified(cur);
  }
  return readUnqualified(cur);
}

/** N [CV-qualifiers] [ref] <prefix components...> E — keeps the last named component. */
function readNestedName(cur: Cursor): string | null {
  cur.pos++; // N
  while ('rVKRO'.includes(cur.peek()) && cur.peek() !== '') cur.pos++;
  let last: string | null = null;
  while (cur.pos < cur.s.length) {
    cur.tick();
    const c = cur.peek();
    if (c === 'E') {
      cur.pos++;
      return last;
    }
    if (c === 'I') {
      skipTemplateArgs(cur);
      continue;
    }
    if (c === 'S') {
      skipSubstitution(cur);
      continue;
    }
    if (c === 'T') {
      skipTemplateParam(cur);
      continue;
    }
    if (c === 'B') {
      // ABI tag on the previous component: B <source-name>
      cur.pos++;
      readSourceName(cur);
      continue;
    }
    const name = readUnqualified(cur);
    if (name === null) return last;
    if (!name.startsWith('_GLOBAL__N')) last = name;
  }
  return last;
}

function readUnqualified(cur: Cursor): string | null {
  const c = cur.peek();
  if (/[0-9]/.test(c)) return readSourceName(cur);
  if (c === 'C' || c === 'D') {
    // constructor / destructor: C1, C2, D0, D1...; not kernel names, but consume them.
    if (/[0-9I]/.test(cur.peek(1))) {
      cur.pos += 2;
      return c === 'C' ? '<ctor>' : '<dtor>';
    }
    return null;
  }
  if (c === 'U' && cur.peek(1) === 'l') {
    skipLambda(cur);
    return '<lambda>';
  }
  if (c === 'U' && cur.peek(1) === 't') {
    cur.pos += 2;
    while (/[0-9]/.test(cur.peek())) cur.pos++;
    if (cur.peek() === '_') cur.pos++;
    return '<unnamed>';
  }
  const op = cur.s.slice(cur.pos, cur.pos + 2);
  if (OPERATORS.has(op)) {
    // operator name (two letters), e.g. "cl" for operator().
    cur.pos += 2;
    return op === 'cl' ? 'operator()' : `operator_${op}`;
  }
  return null;
}

const OPERATORS = new Set(['cl', 'ix', 'pl', 'mi', 'ml', 'dv', 'rm', 'eq', 'ne', 'lt', 'gt', 'le', 'ge', 'aS', 'nw', 'dl', 'na', 'da', 'pp', 'mm', 'co', 'an', 'or', 'eo', 'ls', 'rs', 'nt', 'aa', 'oo', 'pt', 'cm']);

function readSourceName(cur: Cursor): string {
  let digits = '';
  while (/[0-9]/.test(cur.peek())) {
    digits += cur.peek();
    cur.pos++;
  }
  const len = Number(digits);
  if (!digits || len <= 0 || cur.pos + len > cur.s.length) throw new GiveUp();
  const name = cur.s.slice(cur.pos, cur.pos + len);
  cur.pos += len;
  return name;
}

/** S_, S<seq-id>_, or the two-letter std abbreviations (St, Sa, Sb, Ss, Si, So, Sd). */
function skipSubstitution(cur: Cursor): void {
  cur.pos++; // S
  const c = cur.peek();
  if ('tabsiod'.includes(c) && c !== '') {
    cur.pos++;
    return;
  }
  while (/[0-9A-Z]/.test(cur.peek())) cur.pos++;
  if (cur.peek() !== '_') throw new GiveUp();
  cur.pos++;
}

/** T_ or T<n>_ */
function skipTemplateParam(cur: Cursor): void {
  cur.pos++;
  while (/[0-9]/.test(cur.peek())) cur.pos++;
  if (cur.peek() !== '_') throw new GiveUp();
  cur.pos++;
}

/** Ul <param types> E [<number>] _ */
function skipLambda(cur: Cursor): void {
  cur.pos += 2;
  while (cur.peek() !== 'E') {
    cur.tick();
    if (cur.pos >= cur.s.length) throw new GiveUp();
    skipType(cur);
  }
  cur.pos++;
  while (/[0-9]/.test(cur.peek())) cur.pos++;
  if (cur.peek() !== '_') throw new GiveUp();
  cur.pos++;
}

/** I <template-arg>+ E */
function skipTemplateArgs(cur: Cursor): void {
  cur.pos++; // I
  while (cur.peek() !== 'E') {
    cur.tick();
    if (cur.pos >= cur.s.length) throw new GiveUp();
    skipTemplateArg(cur);
  }
  cur.pos++;
}

function skipTemplateArg(cur: Cursor): void {
  const c = cur.peek();
  if (c === 'L') return skipLiteral(cur);
  if (c === 'J') {
    // argument pack
    cur.pos++;
    while (cur.peek() !== 'E') {
      cur.tick();
      if (cur.pos >= cur.s.length) throw new GiveUp();
      skipTemplateArg(cur);
    }
    cur.pos++;
    return;
  }
  if (c === 'X') {
    // expression: give a best effort by skipping to the balancing E of simple expressions.
    cur.pos++;
    skipUntilBalancedE(cur);
    return;
  }
  skipType(cur);
}

/** L <type> <value> E, or L _Z <encoding> E */
function skipLiteral(cur: Cursor): void {
  cur.pos++; // L
  if (cur.peek() === '_' && cur.peek(1) === 'Z') {
    cur.pos += 2;
    skipEncoding(cur);
  } else {
    skipType(cur);
    while (cur.peek() !== 'E') {
      cur.tick();
      if (cur.pos >= cur.s.length) throw new GiveUp();
      cur.pos++; // value digits, 'n' for negative, hex float digits
    }
  }
  if (cur.peek() !== 'E') throw new GiveUp();
  cur.pos++;
}

/** A function encoding inside a local name or literal: name then parameter types up to E. */
function skipEncoding(cur: Cursor): void {
  readEncodingName(cur);
  if (cur.peek() === 'I') skipTemplateArgs(cur);
  while (cur.pos < cur.s.length && cur.peek() !== 'E') {
    cur.tick();
    skipType(cur);
  }
}

const BUILTIN = 'vwbcahstijlmxynofdegz';
const QUALIFIER = 'PRKVrOC';

function skipType(cur: Cursor): void {
  cur.tick();
  const c = cur.peek();
  if (c === '') throw new GiveUp();
  if (BUILTIN.includes(c)) {
    cur.pos++;
    return;
  }
  if (QUALIFIER.includes(c)) {
    cur.pos++;
    skipType(cur);
    return;
  }
  if (/[0-9]/.test(c)) {
    readSourceName(cur);
    if (cur.peek() === 'I') skipTemplateArgs(cur);
    return;
  }
  switch (c) {
    case 'N':
      readNestedName(cur);
      return;
    case 'S':
      skipSubstitution(cur);
      if (cur.peek() === 'I') skipTemplateArgs(cur);
      // St <name> (std::foo) continues with an unqualified name
      if (/[0-9]/.test(cur.peek()) && cur.s[cur.pos - 1] === 't') skipType(cur);
      return;
    case 'T':
      skipTemplateParam(cur);
      if (cur.peek() === 'I') skipTemplateArgs(cur);
      return;
    case 'I':
      skipTemplateArgs(cur);
      return;
    case 'A': {
      cur.pos++;
      while (cur.peek() !== '_') {
        cur.tick();
        if (cur.pos >= cur.s.length) throw new GiveUp();
        cur.pos++;
      }
      cur.pos++;
      skipType(cur);
      return;
    }
    case 'F': {
      cur.pos++;
      if (cur.peek() === 'Y') cur.pos++;
      while (cur.peek() !== 'E') {
        cur.tick();
        if (cur.pos >= cur.s.length) throw new GiveUp();
        skipType(cur);
      }
      cur.pos++;
      return;
    }
    case 'M':
      cur.pos++;
      skipType(cur);
      skipType(cur);
      return;
    case 'D':
      return skipDType(cur);
    case 'u':
      cur.pos++;
      readSourceName(cur);
      return;
    case 'L':
      skipLiteral(cur);
      return;
    case 'Z':
      cur.pos++;
      skipEncoding(cur);
      if (cur.peek() === 'E') cur.pos++;
      readEncodingName(cur);
      return;
    default:
      throw new GiveUp();
  }
}

function skipDType(cur: Cursor): void {
  const next = cur.peek(1);
  if (next === 'v') {
    // Dv <dimension> _ <element type>
    cur.pos += 2;
    while (cur.peek() !== '_') {
      cur.tick();
      if (cur.pos >= cur.s.length) throw new GiveUp();
      cur.pos++;
    }
    cur.pos++;
    skipType(cur);
    return;
  }
  if (next === 'F') {
    // DF <bits> _ (std::float16_t etc.)
    cur.pos += 2;
    while (/[0-9]/.test(cur.peek())) cur.pos++;
    if (cur.peek() === '_' || cur.peek() === 'b') cur.pos++;
    return;
  }
  if (next === 'p') {
    cur.pos += 2;
    skipType(cur);
    return;
  }
  if (next === 't' || next === 'T') {
    cur.pos += 2;
    skipUntilBalancedE(cur);
    return;
  }
  cur.pos += 2; // Dn, Dh, Ds, Di, Da, Dc, Du ...
}

function skipUntilBalancedE(cur: Cursor): void {
  let depth = 1;
  while (cur.pos < cur.s.length) {
    cur.tick();
    const c = cur.peek();
    if (/[0-9]/.test(c)) {
      readSourceName(cur);
      continue;
    }
    if (c === 'I' || c === 'N' || c === 'X' || c === 'J') depth++;
    else if (c === 'L') {
      skipLiteral(cur);
      continue;
    } else if (c === 'E' && --depth === 0) {
      cur.pos++;
      return;
    }
    cur.pos++;
  }
  throw new GiveUp();
}
