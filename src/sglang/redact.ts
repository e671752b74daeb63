/**
 * Secret redaction. Runs on every body before it is written or printed: /server_info, dump
 * server_args, launch commands, hicache configs, logs. Keeps keys and nulls (so "was a key
 * configured?" stays answerable) and replaces non-null secret values with REDACTED.
 */
export const REDACTED = '<redacted>';

/** Keys whose values are secrets wherever they appear. */
const SECRET_KEY = /(^|[_-])(api[_-]?key|admin[_-]api[_-]key|ssl[_-]keyfile[_-]password|password|passwd|secret|token|access[_-]key|secret[_-]key|credentials?|auth|authorization|private[_-]key|hf[_-]token|session[_-]token)$/i;

/** Tokenizer identity fields that end in `token` but are not secrets. */
const TOKENIZER_KEY = /^(pad|eos|bos|unk|sep|cls|mask)[_-]token$/i;

/** Keys whose string values are JSON or key=value configs that may embed credentials. */
const CONFIG_STRING_KEY = /(extra_config|_config_json|kv_events_config|tool_server|storage_backend_extra_config)$/i;

/** CLI flags whose next value (or =value) is a secret. */
const SECRET_FLAG = /^--?(api[-_]key|admin[-_]api[-_]key|ssl[-_]keyfile[-_]password|hf[-_]token|token|password|secret|[a-z0-9-]*(?:api|secret|access)[-_]key)$/i;

const PROSE_WORD = /^(to|or|and|is|are|the|in|on|for|with|a|an|not|was|be|if|when|set|unset|enable|enabled|disable|disabled|required|missing|flag|option|value|instead)[.,;:]?$/i;

/** Env-style assignments and bearer tokens inside free text. */
const ENV_ASSIGN = /\b([A-Z0-9_]*(?:TOKEN|API_KEY|SECRET|PASSWORD|ACCESS_KEY)[A-Z0-9_]*)=("[^"]*"|'[^']*'|\S+)/g;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{6,}/gi;
const HF_TOKEN = /\bhf_[A-Za-z0-9]{20,}\b/g;
const SLACK_TOKEN = /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g;
const SK_KEY = /\bsk-[A-Za-z0-9_-]{16,}/g;
const BASIC = /\b(Basic\s+)([A-Za-z0-9+/]{8,}={0,2})/g;
/**
 * `key='v'`, `key="v"`, `"key": "v"`, `key: v` inside text (Python reprs, JSON, YAML-ish logs). Only the
 * key and separator are matched by the regex (bounded, no nested quantifiers); the value is scanned by hand
 * so that unterminated quotes cannot cause quadratic rescans.
 */
const KEY_VALUE = /(?<![\w-])(["']?)([A-Za-z][\w-]{0,63})\1[ \t]{0,8}[:=][ \t]{0,8}/g;
const UNQUOTED_VALUE_END = /[\s,;)}\]'"]/;
/** Values left alone: nulls/booleans, and auth schemes whose credential the BEARER/BASIC rules redact. */
const KEEP_VALUE = /^(?:(?:None|null|true|false|True|False)(?![\w-])|(?:Bearer|Basic)[ \t])/i;
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)([^/\s:@]+):([^/\s@]+)@/gi;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !TOKENIZER_KEY.test(key);
}

/** Redacts secrets in free text: launch commands, log lines, error messages. */
export function redactText(text: string): string {
  return redactKeyValues(redactCommandFlags(text))
    .replace(ENV_ASSIGN, (_m, name: string) => `${name}=${REDACTED}`)
    .replace(BEARER, (_m, prefix: string) => `${prefix}${REDACTED}`)
    .replace(HF_TOKEN, REDACTED)
    .replace(SLACK_TOKEN, REDACTED)
    .replace(SK_KEY, REDACTED)
    .replace(BASIC, (m, prefix: string, token: string) => (looksBase64(token) ? `${prefix}${REDACTED}` : m))
    .replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`);
}

/** "Basic configuration" is prose; "Basic dXNlcjpwYXNz" is a credential (digit, +/=, or inner capital). */
function looksBase64(token: string): boolean {
  return /[0-9+/=]/.test(token) || /[A-Z]/.test(token.slice(1));
}

/** Secret `key=value` / `"key": "value"` pairs inside text; None/null values and other keys are kept. */
function redactKeyValues(text: string): string {
  const re = new RegExp(KEY_VALUE.source, 'g');
  let out = '';
  let copied = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const valueStart = m.index + m[0].length;
    if (!isSecretKey(m[2]!) || valueStart >= text.length) continue;
    const rest = text.slice(valueStart, valueStart + 16);
    if (KEEP_VALUE.test(rest) || rest.startsWith(REDACTED)) continue;
    const q = text[valueStart]!;
    let valueEnd: number;
    if (q === '"' || q === "'") {
      const close = text.indexOf(q, valueStart + 1);
      const eol = text.indexOf('\n', valueStart + 1);
      const lineEnd = eol === -1 ? text.length : eol;
      valueEnd = close !== -1 && close < lineEnd ? close + 1 : lineEnd;
    } else {
      valueEnd = valueStart;
      while (valueEnd < text.length && !UNQUOTED_VALUE_END.test(text[valueEnd]!)) valueEnd++;
      if (valueEnd === valueStart) continue;
    }
    const quoted = q === '"' || q === "'";
    out += text.slice(copied, valueStart) + (quoted ? `${q}${REDACTED}${q}` : REDACTED);
    copied = valueEnd;
    re.lastIndex = valueEnd;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** `--api-key X`, `--api-key=X`, `--admin-api-key "X Y"` → value replaced, flag kept. */
function redactCommandFlags(text: string): string {
  // Tokenise on whitespace but keep the separators so the text is otherwise unchanged.
  const parts = text.split(/(\s+)/);
  let redactNext = false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (/^\s+$/.test(part) || part === '') continue;
    if (redactNext) {
      redactNext = false;
      // Prose such as "Restart with --admin-api-key to enable" names the flag without a value.
      if (PROSE_WORD.test(part)) continue;
      parts[i] = REDACTED;
      const q = part[0];
      if ((q === '"' || q === "'") && !(part.length > 1 && part.endsWith(q))) {
        // A quoted value with spaces: blank the following parts up to the closing quote.
        for (let j = i + 1; j < parts.length; j++) {
          const next = parts[j]!;
          parts[j] = '';
          if (!/^\s+$/.test(next) && next.endsWith(q)) { i = j; break; }
          i = j;
        }
      }
      continue;
    }
    const eq = part.indexOf('=');
    if (part.startsWith('-') && eq > 0) {
      if (SECRET_FLAG.test(part.slice(0, eq))) parts[i] = `${part.slice(0, eq)}=${REDACTED}`;
      continue;
    }
    if (SECRET_FLAG.test(part)) redactNext = true;
  }
  return parts.join('');
}

/** Redacts a JSON-shaped value without recursion (bounded by an explicit stack), returning a copy. */
export function redactValue<T>(value: T): T {
  const root = { v: value as unknown };
  const stack: Array<{ holder: Record<string, unknown> | unknown[]; key: string | number; parentKey: string | null }> = [
    { holder: root as Record<string, unknown>, key: 'v', parentKey: null },
  ];
  const out = { v: undefined as unknown };
  const targets = new Map<object, Record<string, unknown> | unknown[]>([[root, out as Record<string, unknown>]]);
  while (stack.length) {
    const { holder, key, parentKey } = stack.pop()!;
    const target = targets.get(holder)!;
    const current = (holder as Record<string | number, unknown>)[key];
    let copy: unknown;
    if (parentKey !== null && isSecretKey(parentKey) && current !== null && current !== undefined && typeof current !== 'boolean') {
      copy = REDACTED;
    } else if (typeof current === 'string') {
      copy = parentKey !== null && CONFIG_STRING_KEY.test(parentKey) ? redactConfigString(current) : redactText(current);
    } else if (Array.isArray(current)) {
      const arr: unknown[] = new Array(current.length);
      targets.set(current, arr);
      for (let i = current.length - 1; i >= 0; i--) stack.push({ holder: current, key: i, parentKey });
      copy = arr;
    } else if (current && typeof current === 'object') {
      const obj: Record<string, unknown> = {};
      targets.set(current, obj);
      const keys = Object.keys(current);
      for (let i = keys.length - 1; i >= 0; i--) stack.push({ holder: current as Record<string, unknown>, key: keys[i]!, parentKey: keys[i]! });
      copy = obj;
    } else {
      copy = current;
    }
    (target as Record<string | number, unknown>)[key] = copy;
  }
  return out.v as T;
}

/** A config stored as a string: JSON → redact its keys; otherwise treat as text. */
export function redactConfigString(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.stringify(redactValue(JSON.parse(trimmed)));
    } catch {
      // Not JSON after all: fall through to text rules.
    }
  }
  return redactText(text).replace(/(\b[\w.-]*(?:key|token|secret|password)[\w.-]*\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;}]+)/gi, `$1${REDACTED}`);
}
