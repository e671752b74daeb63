import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../pipelines/types.js';

/** Bolt's and web-api's own log lines, routed into our structured JSON logger. */
export function boltLogger(logger: Logger, name = 'bolt'): BoltLogger {
  let level: LogLevel = LogLevel.INFO;
  let component = name;
  const text = (parts: unknown[]) => parts.map((p) => (p instanceof Error ? p.message : typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
  const rank = { [LogLevel.DEBUG]: 0, [LogLevel.INFO]: 1, [LogLevel.WARN]: 2, [LogLevel.ERROR]: 3 } as const;
  const on = (at: LogLevel) => rank[at] >= rank[level];
  return {
    debug: (...msg) => on(LogLevel.DEBUG) && logger.debug(text(msg), { component }),
    info: (...msg) => on(LogLevel.INFO) && logger.info(text(msg), { component }),
    warn: (...msg) => on(LogLevel.WARN) && logger.warn(text(msg), { component }),
    error: (...msg) => on(LogLevel.ERROR) && logger.error(text(msg), { component }),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: (n) => {
      component = n;
    },
  };
}
