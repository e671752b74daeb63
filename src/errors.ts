/**
 * The closed set of errors the product raises. Each has a stable `code` that tests, the CLI's exit
 * codes and the queue's retry policy rely on. Probe outcomes (HTTP, subprocess) are NOT errors:
 * they are discriminated unions returned as values.
 */
export const ERROR_CODES = {
  /** Bad command line or slash command. CLI exit 2. */
  E_USAGE: 'usage',
  /** Invalid env or servers.yaml. */
  E_CONFIG: 'config',
  /** A server name that is not in the registry. */
  E_UNKNOWN_SERVER: 'unknown-server',
  /** A file or folder the user named does not exist or holds nothing usable. */
  E_NOT_FOUND: 'not-found',
  /** Malformed or hostile input data (pickle, JSON, log). Never retried. */
  E_BAD_INPUT: 'bad-input',
  /** A pickle reader bound was exceeded (depth, memo, size, allocation, time). */
  E_LIMIT: 'limit',
  /** A deadline passed. */
  E_TIMEOUT: 'timeout',
  /** The caller aborted (Ctrl-C, SIGTERM, job cancelled). */
  E_ABORTED: 'aborted',
  /** Filesystem failure while writing evidence. */
  E_IO: 'io',
  /** Access control refused the caller. */
  E_FORBIDDEN: 'forbidden',
  /** A transient fault in a dependency (Redis, Slack, network) that a retry may fix. */
  E_TRANSIENT: 'transient',
  /** A subprocess we depend on (cuda-gdb, py-spy, python) failed to run. */
  E_SUBPROCESS: 'subprocess',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class TriageError extends Error {
  override readonly name = 'TriageError';
  readonly code: ErrorCode;
  /** Structured context: offsets, paths, the dot-path of a config key. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** Bad input is never worth a retry; the queue maps this to UnrecoverableError. */
  get retryable(): boolean {
    return this.code === 'E_TRANSIENT' || this.code === 'E_TIMEOUT';
  }
}

export function isTriageError(err: unknown, code?: ErrorCode): err is TriageError {
  return err instanceof TriageError && (code === undefined || err.code === code);
}

/** Turns any thrown value into a one-line message for people. */
export function describeError(err: unknown): string {
  if (err instanceof TriageError) return `${err.message} [${err.code}]`;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Throws E_ABORTED if the signal has fired, carrying its reason. */
export function throwIfAborted(signal: AbortSignal | undefined, what = 'operation'): void {
  if (signal?.aborted) {
    throw new TriageError('E_ABORTED', `${what} aborted`, { cause: signal.reason });
  }
}
