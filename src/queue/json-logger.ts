import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import type { Logger } from '../pipelines/types.js';
import { redactText, redactValue } from '../sglang/redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface JsonLoggerOptions {
  level?: LogLevel;
  /** Fields put on every line (process name, host). */
  base?: Record<string, unknown>;
  /** Where lines go; default stderr (asynchronously, so a slow reader never blocks the event loop). */
  write?: (line: string) => void;
  now?: () => Date;
}

export type JsonLogger = Logger & { child(fields: Record<string, unknown>): JsonLogger };

/**
 * Keys pino censors wherever they sit (one level deep, and in request headers): the library's own
 * guard. Values under any secret-looking key, and secrets inside strings (tokens, bearer headers,
 * key=value pairs, URL passwords), are redacted before pino sees them (src/sglang/redact.ts).
 */
export const REDACT_PATHS = ['token', 'password', 'secret', 'authorization', 'botToken', 'appToken', 'signingSecret', 'alertToken', '*.token', '*.password', '*.secret', '*.authorization', '*.botToken', '*.appToken', '*.signingSecret', '*.alertToken', 'headers.authorization', 'headers.cookie', '*.headers.authorization', '*.headers.cookie'];

/**
 * Structured logs through pino: one JSON object per line, `time` (ISO) + `level` (its name) +
 * `msg` + the base fields + the line's fields; no pid or hostname. Errors keep their name,
 * message and code.
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): JsonLogger {
  const now = options.now ?? (() => new Date());
  const destination: DestinationStream = options.write ? { write: options.write } : pino.destination({ dest: 2, sync: false });
  const root = pino(
    {
      level: options.level ?? 'info',
      base: options.base ? plain(redactValue(options.base)) : null,
      messageKey: 'msg',
      timestamp: () => `,"time":"${now().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '<redacted>' },
      // Errors are already plain {name, message, code} (serialise below): no stack traces in the log stream.
      serializers: { err: (value: unknown) => value },
    },
    destination,
  );
  return wrap(root);
}

function wrap(log: Pino): JsonLogger {
  const emit = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (!log.isLevelEnabled(level)) return;
    log[level](fields ? plain(redactValue(serialise(fields))) : {}, redactText(msg));
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => wrap(log.child(plain(redactValue(serialise(fields))))),
  };
}

/** Errors do not survive JSON.stringify; keep their name, message and code. */
function serialise(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = v instanceof Error ? { name: v.name, message: v.message, code: (v as { code?: unknown }).code } : v;
  }
  return out;
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * redactValue returns null-prototype objects (so `__proto__` stays data); pino calls hasOwnProperty on
 * what it is given. Object.fromEntries defines each key as data, so a `__proto__` key is still data here.
 */
function plain(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' ? Object.fromEntries(Object.entries(value)) : {};
}
