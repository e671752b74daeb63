/**
 * What happened to one replayed request: a discriminated union, never a thrown error.
 *
 * Phases: `connect` (only known from a connect error code), `response` (sent, waiting for the
 * status line: a non-stream `/generate` answers only when generation ends), `first-token` (stream
 * open, no event yet), `body` (events or body bytes arriving).
 */
export type Phase = 'connect' | 'response' | 'first-token' | 'body';

/** Why the replay stopped sending before the end of the plan. */
export type StopReason = 'signal' | 'target-hung' | 'server-died';

export type Outcome =
  | { kind: 'ok'; finishReason: string | null }
  /**
   * The server answered with an error: a non-2xx status (`source: 'status'`), a
   * `data: {"error": …}` event in a 200 stream (`stream-error`) or a finished response whose
   * finish_reason is `abort` (`abort-finish`).
   */
  | { kind: 'http-error'; status: number; source: 'status' | 'stream-error' | 'abort-finish'; message: string }
  /**
   * The per-request deadline (--timeout) passed in `phase`. `idleMs`: how long nothing had arrived
   * on this request when the deadline hit (a stalled request, vs. one still streaming tokens).
   */
  | { kind: 'timeout'; phase: Phase; afterMs: number; idleMs: number }
  /** The connection broke (ECONNRESET, EPIPE, "other side closed") while the target was still up. */
  | { kind: 'reset'; phase: Phase; code: string; message: string }
  /** The connection was refused (nothing listening) and the target had never answered in this replay. */
  | { kind: 'refused'; code: string; message: string }
  /**
   * A reset or refusal after the target had answered earlier and then stopped accepting connections.
   * See `markServerDied` for the exact rule.
   */
  | { kind: 'server-died'; was: 'reset' | 'refused'; phase: Phase; code: string; message: string }
  /** The body could not be used: over the size cap, not JSON, or a stream that ended without [DONE]. */
  | { kind: 'bad-body'; reason: 'too-large' | 'malformed' | 'truncated'; message: string }
  /** In flight when the replay stopped (Ctrl-C, or the target hung or died). */
  | { kind: 'aborted'; reason: StopReason; phase: Phase }
  /** Never sent: the replay stopped before its planned start. */
  | { kind: 'not-sent'; reason: StopReason }
  /** Never sent: the dump record could not be built into a request body (skipped, counted, the replay went on). */
  | { kind: 'bad-record'; message: string };

export type OutcomeKind = Outcome['kind'];

export const OUTCOME_KINDS: readonly OutcomeKind[] = [
  'ok',
  'http-error',
  'timeout',
  'reset',
  'refused',
  'server-died',
  'bad-body',
  'aborted',
  'not-sent',
  'bad-record',
];

const REFUSED_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const RESET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'HPE_INVALID_EOF_STATE',
]);

/** The first `code` found on an error or its causes (undici wraps socket errors). */
export function errorCode(err: unknown): string {
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur && typeof cur === 'object'; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && (REFUSED_CODES.has(code) || RESET_CODES.has(code) || code === 'UND_ERR_CONNECT_TIMEOUT')) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  const top = err && typeof err === 'object' ? (err as { code?: unknown }).code : undefined;
  return typeof top === 'string' ? top : 'UNKNOWN';
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error && err.cause.message !== err.message ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`.slice(0, 300);
  }
  return String(err).slice(0, 300);
}

/**
 * Maps a transport error (not our own deadline or abort: the caller checks those first) to an outcome.
 * Unknown errors count as resets: the request did not get an answer and the connection is unusable.
 */
export function classifyTransportError(err: unknown, phase: Phase, elapsedMs: number): Outcome {
  const code = errorCode(err);
  const message = errorText(err);
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { kind: 'timeout', phase: 'connect', afterMs: elapsedMs, idleMs: elapsedMs };
  if (REFUSED_CODES.has(code)) return { kind: 'refused', code, message };
  return { kind: 'reset', phase, code, message };
}

/** Outcomes that mean the server gave no usable answer because of the transport. */
export function isTransportFailure(o: Outcome): o is Extract<Outcome, { kind: 'reset' | 'refused' }> {
  return o.kind === 'reset' || o.kind === 'refused';
}

/** Non-ok outcomes that the replay itself caused or chose (not findings about the server). */
export function isStopOutcome(o: Outcome): boolean {
  return o.kind === 'aborted' || o.kind === 'not-sent';
}

/** Timing facts `markServerDied` needs from each result. */
export interface DeathInput {
  outcome: Outcome;
  /** When the failure was observed (ms since replay start); null when never sent. */
  endedAtMs: number | null;
}

/**
 * The server-died rule. The target DIED at time D when:
 *   1. it had answered at least once in this replay (any HTTP status line), at time A (the last
 *      answer before D), and
 *   2. a later connection attempt was REFUSED at D (the listening socket is gone).
 * Resets alone never establish death (a proxy or one broken connection can reset one request),
 * but once death is established every reset or refusal observed after A is part of the death and
 * becomes `server-died` (in-flight requests reset by the dying process, then refusals).
 * A target that never answered keeps plain `refused`: it was never up (a wrong URL), not a finding.
 *
 * Mutates nothing; returns the new outcomes and the death facts.
 */
export function markServerDied<T extends DeathInput>(
  results: readonly T[],
  answeredAtMs: readonly number[],
): { outcomes: Outcome[]; diedAtMs: number | null; lastAnswerAtMs: number | null } {
  const outcomes = results.map((r) => r.outcome);
  if (!answeredAtMs.length) return { outcomes, diedAtMs: null, lastAnswerAtMs: null };
  let firstAnswer = Infinity;
  for (const t of answeredAtMs) if (t < firstAnswer) firstAnswer = t;
  let diedAt: number | null = null;
  for (const r of results) {
    if (r.outcome.kind !== 'refused' || r.endedAtMs === null || r.endedAtMs < firstAnswer) continue;
    if (diedAt === null || r.endedAtMs < diedAt) diedAt = r.endedAtMs;
  }
  if (diedAt === null) return { outcomes, diedAtMs: null, lastAnswerAtMs: null };
  let lastAnswer = firstAnswer;
  for (const t of answeredAtMs) if (t <= diedAt && t > lastAnswer) lastAnswer = t;
  const next = results.map((r): Outcome => {
    const o = r.outcome;
    if (!isTransportFailure(o) || r.endedAtMs === null || r.endedAtMs < lastAnswer) return o;
    return { kind: 'server-died', was: o.kind, phase: o.kind === 'reset' ? o.phase : 'connect', code: o.code, message: o.message };
  });
  return { outcomes: next, diedAtMs: diedAt, lastAnswerAtMs: lastAnswer };
}
