/**
 * Secret redaction. Runs on every body before it is written or printed: /server_info, dump
 * server_args, launch commands, hicache configs, logs. Keeps keys and nulls (so "was a key
 * configured?" stays answerable) and replaces non-null secret values with REDACTED.
 */
export const REDACTED = '<redacted>';

/** Keys whose values are secrets wherever they appear. */
const SECRET_KEY = /(^|_)(api_?key|admin_api_key|ssl_keyfile_password|password|passwd|secret|token|access_key|secret_key|credentials?|auth|authorization|private_key|hf_token|session_token)$/i;

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
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)([^/\s:@]+):([^/\s@]+)@/gi;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Redacts secrets in free text: launch commands, log lines, error messages. */
export function redactText(text: string): string {
  return redactCommandFlags(text)
    .replace(ENV_ASSIGN, (_m, name: string) => `${name}=${REDACTED}`)
    .replace(BEARER, (_m, prefix: string) => `${prefix}${REDACTED}`)
    .replace(HF_TOKEN, REDACTED)
    .replace(SLACK_TOKEN, REDACTED)
    .replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`);
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
      // Prose such as "Restart with --admin-api-key to enable" names the flag without a value.
      if (!PROSE_WORD.test(part)) parts[i] = REDACTED;
      redactNext = false;
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
