import type { Logger } from '../pipelines/types.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface JsonLoggerOptions {
  level?: LogLevel;
  /** Fields put on every line (process name, host). */
  base?: Record<string, unknown>;
  /** Where lines go; defaults to stderr so stdout stays free. */
  write?: (line: string) => void;
  now?: () => Date;
}

/** Structured logs: one JSON object per line, `msg` + `level` + `time` + fields. */
export function createJsonLogger(options: JsonLoggerOptions = {}): Logger & { child(fields: Record<string, unknown>): Logger } {
  const min = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const base = options.base ?? {};
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (RANK[level] < min) return;
    write(`${JSON.stringify({ time: now().toISOString(), level, msg, ...base, ...serialise(fields) })}\n`);
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createJsonLogger({ ...options, base: { ...base, ...fields } }),
  };
}

/** Errors do not survive JSON.stringify; keep their message and code. */
function serialise(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!fields) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = v instanceof Error ? { name: v.name, message: v.message, code: (v as { code?: unknown }).code } : v;
  }
  return out;
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
