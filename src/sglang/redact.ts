import { Transform } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { AUTH_SCHEME, KEEP_VALUE, KEY_FORMATS, REDACTED, TOKEN_FORMATS, WHOLE_LINE_KEY, isSecretKey, isTokenCount, snakeKey, type ScanFormat, type SecretFormat } from './secret-formats.js';

export { REDACTED, isSecretKey, type KeyFormat, type ScanFormat, type SecretFormat, type TokenFormat } from './secret-formats.js';

/**
 * Secret redaction: one table of formats (SECRET_FORMATS), applied to every body, file, log copy, abort
 * message, URL and printed line before it leaves the process. Keys and nulls are kept (so "was a key
 * configured?" stays answerable); secret values become REDACTED. Tokenizer identity fields (`eos_token`)
 * and token counts (`max_total_num_tokens`) are not secrets and are kept.
 *
 * Every pattern is linear on hostile input: fixed prefixes, bounded or trailing-free repeats, and hand
 * scans (PEM blocks, JWTs, key=value values) where a regex would backtrack.
 */
const SCAN_FORMATS: ScanFormat[] = [
  { kind: 'scan', id: 'pem-private-key', what: 'PEM private keys (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP), also with escaped newlines', redact: redactPemBlocks },
  { kind: 'scan', id: 'jwt', what: 'JSON Web Tokens eyJ….eyJ….sig', redact: redactJwts },
  { kind: 'scan', id: 'url-userinfo', what: 'URL credentials scheme://user:PASSWORD@host, ://:password@, and long userinfo tokens (Sentry DSN)', redact: redactUrlCredentials },
  { kind: 'scan', id: 'basic-auth', what: 'Basic credentials (base64 user:password)', redact: redactBasic },
  { kind: 'scan', id: 'netrc', what: '.netrc lines: machine H login U password P', redact: (t) => t.replace(NETRC, (_m, head: string) => `${head}${REDACTED}`) },
  { kind: 'scan', id: 'secret-flag', what: 'command-line flags named like a secret: --api-key X, --auth-token=X, --client-secret "X"', redact: redactCommandFlags },
  { kind: 'scan', id: 'secret-key-value', what: 'key=value, key: value, "key": "value", \\"key\\": \\"value\\" (escaped JSON in a log line), NAME=value, headers to end of line', redact: redactKeyValues },
];

export const SECRET_FORMATS: readonly SecretFormat[] = [...SCAN_FORMATS, ...KEY_FORMATS, ...TOKEN_FORMATS];

/** Redacts secrets in free text: launch commands, log lines, error messages, URLs. */
export function redactText(text: string): string {
  if (!text) return text;
  let out = text;
  for (const f of SCAN_FORMATS) out = f.redact(out);
  for (const f of TOKEN_FORMATS) {
    if (Array.isArray(f.hint) ? !f.hint.some((h) => out.includes(h)) : !f.hint.test(out)) continue;
    f.pattern.lastIndex = 0;
    out = out.replace(f.pattern, (m: string) => (f.keep ? `${m.slice(0, f.keep)}${REDACTED}` : REDACTED));
  }
  return out;
}

/** A URL for printing: credentials in userinfo and secret query parameters removed. */
export function redactUrl(url: string): string {
  return redactText(url);
}

const NETRC = /(\bmachine[ \t]+\S{1,256}[ \t]+login[ \t]+\S{1,256}[ \t]+password[ \t]+)\S{1,1024}/g;

function redactBasic(text: string): string {
  return text.replace(/\b(Basic[ \t]{1,8})([A-Za-z0-9+/]{8,4096}={0,2})/g, (m, prefix: string, cred: string) =>
    // "Basic configuration" is prose; "Basic dXNlcjpwYXNz" is a credential (digit, +/=, or inner capital).
    /[0-9+/=]/.test(cred) || /[A-Z]/.test(cred.slice(1)) ? `${prefix}${REDACTED}` : m,
  );
}

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?)-----/g;

/** From each BEGIN … PRIVATE KEY marker to its END marker (or the end of the text when cut off). */
function redactPemBlocks(text: string): string {
  if (!text.includes('PRIVATE KEY')) return text;
  let out = '';
  let copied = 0;
  PEM_BEGIN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = PEM_BEGIN.exec(text)) !== null) {
    const endMarker = `-----END ${m[1]}-----`;
    const bodyStart = m.index + m[0].length;
    const end = text.indexOf(endMarker, bodyStart);
    out += `${text.slice(copied, bodyStart)}${REDACTED}`;
    if (end === -1) return out;
    copied = end;
    PEM_BEGIN.lastIndex = end + endMarker.length;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

const isB64Url = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95;

/** eyJ<header>.<payload>.<signature>: one pass, each run of base64url characters read once. */
function redactJwts(text: string): string {
  if (!text.includes('eyJ')) return text;
  let out = '';
  let copied = 0;
  let i = text.indexOf('eyJ');
  while (i !== -1) {
    if (i > 0 && isB64Url(text.charCodeAt(i - 1))) {
      i = text.indexOf('eyJ', i + 3);
      continue;
    }
    let j = i;
    const segments: number[] = [];
    for (let seg = 0; seg < 3; seg++) {
      const start = j;
      while (j < text.length && isB64Url(text.charCodeAt(j))) j++;
      segments.push(j - start);
      if (seg < 2) {
        if (text.charCodeAt(j) !== 46) break;
        j++;
      }
    }
    if (segments.length === 3 && segments[0]! >= 8 && segments[1]! >= 8) {
      out += `${text.slice(copied, i)}${REDACTED}`;
      copied = j;
    }
    i = text.indexOf('eyJ', Math.max(j, i + 3));
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** scheme://user:password@ → scheme://user:<redacted>@; scheme://<long token>@ → scheme://<redacted>@. */
function redactUrlCredentials(text: string): string {
  if (!text.includes('://')) return text;
  return text
    .replace(/(\b[a-z][a-z0-9+.-]{0,30}:\/\/)([^/\s:@"'<>]{0,256}):([^/\s@"'<>]{1,1024})@/gi, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
    .replace(/(\b[a-z][a-z0-9+.-]{0,30}:\/\/)([A-Za-z0-9._~-]{16,1024})@/gi, (_m, scheme: string) => `${scheme}${REDACTED}@`);
}

/**
 * `key='v'`, `key="v"`, `"key": "v"`, `\"key\": \"v\"`, `key: v`, `NAME=v` inside text (Python reprs, JSON,
 * escaped JSON in log lines, YAML-ish logs, URL queries, env assignments). Only the key and separator are
 * matched by the regex (bounded, no nested quantifiers); the value is scanned by hand.
 */
const KEY_VALUE = /(?<![\w-])(\\{0,3}["']|)([A-Za-z][\w.-]{0,63})\1[ \t]{0,8}[:=][ \t]{0,8}/g;
const UNQUOTED_VALUE_END = /[\s,;&)}\]'"\\]/;

function redactKeyValues(text: string): string {
  KEY_VALUE.lastIndex = 0;
  const lineEnd = lineEnds(text);
  let out = '';
  let copied = 0;
  let m: RegExpExecArray | null;
  while ((m = KEY_VALUE.exec(text)) !== null) {
    let valueStart = m.index + m[0].length;
    const name = m[2]!;
    if (valueStart >= text.length || !isSecretKey(name)) continue;
    // Header syntax (`Cookie: a=1; b=2`) runs to the end of the line; `cookie=v` is one value.
    const wholeLine = !m[0].includes('=') && WHOLE_LINE_KEY.test(snakeKey(name));
    // The opening quote of the value, possibly backslash-escaped (escaped JSON inside a log line).
    let q = '';
    const open = /^\\{0,3}["']/.exec(text.slice(valueStart, valueStart + 4));
    if (open) q = open[0];
    const contentStart = valueStart + q.length;
    let rest = text.slice(contentStart, contentStart + 80);
    if (KEEP_VALUE.test(rest) || rest.startsWith(REDACTED) || isTokenCount(name, rest)) continue;
    let keepPrefix = 0;
    if (wholeLine) {
      const scheme = AUTH_SCHEME.exec(rest);
      if (scheme) {
        keepPrefix = scheme[0].length;
        rest = rest.slice(keepPrefix);
        if (KEEP_VALUE.test(rest) || rest.startsWith(REDACTED)) continue;
      }
    }
    let valueEnd: number;
    const eol = lineEnd(contentStart);
    if (q) {
      const close = text.indexOf(q, contentStart);
      valueEnd = close !== -1 && close < eol ? close : eol;
    } else if (wholeLine) {
      valueEnd = eol;
    } else {
      valueEnd = contentStart;
      while (valueEnd < text.length && !UNQUOTED_VALUE_END.test(text[valueEnd]!)) valueEnd++;
      if (valueEnd === contentStart) continue;
    }
    valueStart = contentStart + keepPrefix;
    out += `${text.slice(copied, valueStart)}${REDACTED}`;
    copied = valueEnd;
    KEY_VALUE.lastIndex = valueEnd;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * End of the line at `from`: a newline, or a literal `\n` / `\r` escape (a line inside a JSON string).
 * Callers ask with growing `from`; the last answer is reused while `from` stays on that line, so a text
 * of many matches and no newline is still read once.
 */
function lineEnds(text: string): (from: number) => number {
  let lineFrom = -1;
  let lineTo = -1;
  return (from) => {
    if (from >= lineFrom && from <= lineTo) return lineTo;
    let end = text.length;
    for (const stop of ['\n', '\r', '\\n', '\\r']) {
      const i = text.indexOf(stop, from);
      if (i !== -1 && i < end) end = i;
    }
    lineFrom = from;
    lineTo = end;
    return end;
  };
}

const PROSE_WORD = /^(to|or|and|is|are|the|in|on|for|with|a|an|not|was|be|if|when|set|unset|enable|enabled|disable|disabled|required|missing|flag|option|value|instead)[.,;:]?$/i;

/** A command-line flag at the start of a word. */
const FLAG = /(?<!\S)(--?[A-Za-z][\w-]{0,120})(?=[=\s]|$)/g;

/** `--api-key X`, `--auth-token=X`, `--client-secret "X Y"` → value replaced, flag kept. */
function redactCommandFlags(text: string): string {
  if (!text.includes('-')) return text;
  FLAG.lastIndex = 0;
  const lineEnd = lineEnds(text);
  let out = '';
  let copied = 0;
  let m: RegExpExecArray | null;
  while ((m = FLAG.exec(text)) !== null) {
    const flag = m[1]!;
    if (!isSecretKey(flag)) continue;
    const after = m.index + flag.length;
    const assigned = text[after] === '=';
    let valueStart = after + 1;
    if (!assigned) {
      valueStart = after;
      while (valueStart < text.length && /\s/.test(text[valueStart]!)) valueStart++;
      if (valueStart === after || valueStart >= text.length) continue;
    }
    const q = text[valueStart];
    let valueEnd = valueStart;
    if (q === '"' || q === "'") {
      const close = text.indexOf(q, valueStart + 1);
      const eol = lineEnd(valueStart);
      valueEnd = close !== -1 && close < eol ? close + 1 : eol;
    } else {
      while (valueEnd < text.length && !/\s/.test(text[valueEnd]!)) valueEnd++;
    }
    const value = text.slice(valueStart, valueEnd);
    if (!value || value.startsWith(REDACTED) || KEEP_VALUE.test(value.replace(/^["']/, ''))) continue;
    // Prose such as "Restart with --admin-api-key to enable" names the flag without a value; so does a next flag.
    if (!assigned && (PROSE_WORD.test(value) || /^--?[A-Za-z]/.test(value))) continue;
    out += `${text.slice(copied, valueStart)}${REDACTED}`;
    copied = valueEnd;
    FLAG.lastIndex = valueEnd;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Redacts a JSON-shaped value without recursion (bounded by an explicit stack), returning a copy. */
export function redactValue<T>(value: T): T {
  const root = { v: value as unknown };
  const out: { v: unknown } = { v: undefined };
  const stack: Array<{ from: Record<string | number, unknown>; to: Record<string | number, unknown>; key: string | number; parentKey: string | null }> = [
    { from: root, to: out, key: 'v', parentKey: null },
  ];
  while (stack.length) {
    const { from, to, key, parentKey } = stack.pop()!;
    const current = from[key];
    let copy: unknown;
    if (
      parentKey !== null &&
      isSecretKey(parentKey) &&
      current !== null &&
      current !== undefined &&
      typeof current !== 'boolean' &&
      !(typeof current === 'string' && (current === '' || KEEP_VALUE.test(current))) &&
      !((typeof current === 'number' || typeof current === 'string') && isTokenCount(parentKey, current))
    ) {
      copy = REDACTED;
    } else if (typeof current === 'string') {
      copy = parentKey !== null && CONFIG_STRING_KEY.test(parentKey) ? redactConfigString(current) : redactText(current);
    } else if (Array.isArray(current)) {
      const arr: unknown[] = new Array(current.length);
      for (let i = current.length - 1; i >= 0; i--) stack.push({ from: current as unknown as Record<number, unknown>, to: arr as unknown as Record<number, unknown>, key: i, parentKey });
      copy = arr;
    } else if (current && typeof current === 'object') {
      // A null-prototype copy keeps `__proto__` as data.
      const obj: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      const keys = Object.keys(current);
      for (let i = keys.length - 1; i >= 0; i--) stack.push({ from: current as Record<string, unknown>, to: obj, key: keys[i]!, parentKey: keys[i]! });
      copy = obj;
    } else {
      copy = current;
    }
    to[key] = copy;
  }
  return out.v as T;
}

/** Keys whose string values are JSON or key=value configs that may embed credentials. */
const CONFIG_STRING_KEY = /(extra_config|_config_json|kv_events_config|tool_server|storage_backend_extra_config|_config)$/i;

/** A config stored as a string: JSON → redact its keys; otherwise treat as text. */
export function redactConfigString(text: string): string {
  const trimmed = text.trim();
  if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && trimmed.length < 4 * 1024 * 1024) {
    try {
      return JSON.stringify(redactValue(JSON.parse(trimmed)));
    } catch {
      // Not JSON after all: fall through to text rules.
    }
  }
  return redactText(text).replace(/(\b[\w.-]{0,64}(?:key|token|secret|password)[\w.-]{0,64}[ \t]{0,8}[:=][ \t]{0,8})("[^"\n]{0,4096}"|'[^'\n]{0,4096}'|[^\s,;}]{1,4096})/gi, (m, head: string, value: string) =>
    value.startsWith(REDACTED) || value.startsWith(`"${REDACTED}`) || value.startsWith(`'${REDACTED}`) ? m : `${head}${REDACTED}`,
  );
}

/**
 * Redacts a text stream of any size (log copies), line by line, with `redactText`. A PEM private key spans
 * lines: from a BEGIN … PRIVATE KEY line to its END line every line is replaced. A line longer than
 * `maxLineChars` is redacted in pieces cut at whitespace, so memory stays bounded.
 */
export function createRedactStream(options: { maxLineChars?: number } = {}): Transform {
  const maxLine = options.maxLineChars ?? 1024 * 1024;
  let pending = '';
  let pemEnd: string | null = null;
  const decoder = new StringDecoder('utf8');
  const redactLine = (line: string): string => {
    if (pemEnd !== null) {
      const end = line.indexOf(pemEnd);
      if (end === -1) return line.length ? REDACTED : line;
      const rest = line.slice(end);
      pemEnd = null;
      return redactLine(rest);
    }
    const out = redactText(line);
    PEM_BEGIN.lastIndex = 0;
    let m: RegExpExecArray | null;
    let last: RegExpExecArray | null = null;
    while ((m = PEM_BEGIN.exec(line)) !== null) last = m;
    if (last && !line.includes(`-----END ${last[1]}-----`, last.index)) pemEnd = `-----END ${last[1]}-----`;
    return out;
  };
  // Where the newline search resumes: what was already searched is not searched again (small chunks, long lines).
  let scanned = 0;
  const drain = (push: (s: string) => void, final: boolean) => {
    let start = 0;
    let nl: number;
    while ((nl = pending.indexOf('\n', Math.max(start, scanned))) !== -1) {
      push(`${redactLine(pending.slice(start, nl))}\n`);
      start = nl + 1;
    }
    pending = start ? pending.slice(start) : pending;
    scanned = pending.length;
    while (pending.length > maxLine) {
      const ws = pending.lastIndexOf(' ', maxLine);
      const cut = ws > maxLine / 2 ? ws + 1 : maxLine;
      push(redactLine(pending.slice(0, cut)));
      pending = pending.slice(cut);
      scanned = pending.length;
    }
    if (final && pending) {
      push(redactLine(pending));
      pending = '';
    }
  };
  return new Transform({
    transform(chunk: Buffer | string, _enc, done) {
      pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
      drain((s) => this.push(s), false);
      done();
    },
    flush(done) {
      pending += decoder.end();
      drain((s) => this.push(s), true);
      done();
    },
  });
}
