/** One replayed request's record in replay.json, from what was measured on the wire. */
import { describeError } from '../errors.js';
import type { Outcome, StopReason } from './outcome.js';
import { measured, type Measured } from './request.js';
import type { StartTiming } from './schedule.js';
import type { ReplayRequest } from './types.js';

export interface GapSummary {
  count: number;
  p50Ms: number;
  maxMs: number;
}

/** One request's record in replay.json. Times are ms; *At/*Start values are offsets from replay start. */
export interface RequestResult {
  idx: number;
  rid: string | null;
  unfinishedInDump: boolean;
  stream: boolean;
  plannedStartMs: number;
  actualStartMs: number | null;
  /** actual start − ready time: the scheduler's own error, excluding the parallel cap's delay. */
  startErrorMs: number | null;
  /** ready time − planned time: how long the --parallel cap held this request back. */
  capDelayMs: number | null;
  outcome: Outcome;
  status: number | null;
  ttftMs: number | null;
  e2eMs: number | null;
  gaps: GapSummary | null;
  promptTokens: number | null;
  completionTokens: number | null;
  recordedPromptTokens: number | null;
  recordedCompletionTokens: number | null;
  /** finishedAt − createdAt from the dump, for finished requests. */
  recordedE2eMs: number | null;
  finishReason: string | null;
  bytes: number;
  answeredAtMs: number | null;
  endedAtMs: number | null;
}

export function summariseGaps(gaps: readonly number[]): GapSummary | null {
  if (!gaps.length) return null;
  const sorted = [...gaps].sort((a, b) => a - b);
  return { count: sorted.length, p50Ms: round(sorted[Math.floor((sorted.length - 1) / 2)]!), maxMs: round(sorted[sorted.length - 1]!) };
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** The outcome of a record whose body could not be built (it was never sent). */
export function badRecord(err: unknown, at: number): Measured {
  return measured({ kind: 'bad-record', message: describeError(err).slice(0, 300) }, at);
}

function recordedE2e(req: ReplayRequest): number | null {
  if (req.unfinished || req.finishedAt === undefined || !Number.isFinite(req.finishedAt)) return null;
  const ms = (req.finishedAt - req.createdAt) * 1000;
  return ms >= 0 ? round(ms) : null;
}

// One flat object literal per result (no spread): V8 keeps it a fast object, which matters at
// thousands of requests per second.
export function toResult(req: ReplayRequest, t: StartTiming, m: Measured, t0: number): RequestResult {
  return {
    idx: req.index,
    rid: req.rid ?? null,
    unfinishedInDump: req.unfinished,
    stream: req.stream,
    plannedStartMs: round(t.plannedMs),
    actualStartMs: round(t.startedMs),
    startErrorMs: round(t.startedMs - t.readyMs),
    capDelayMs: round(t.readyMs - t.plannedMs),
    outcome: m.outcome,
    status: m.status,
    ttftMs: m.ttftMs === null ? null : round(m.ttftMs),
    e2eMs: m.e2eMs === null ? null : round(m.e2eMs),
    gaps: summariseGaps(m.gaps),
    promptTokens: m.promptTokens,
    completionTokens: m.completionTokens,
    recordedPromptTokens: req.recordedPromptTokens ?? null,
    recordedCompletionTokens: req.recordedCompletionTokens ?? null,
    recordedE2eMs: recordedE2e(req),
    finishReason: m.finishReason,
    bytes: m.bytes,
    answeredAtMs: m.answeredAt === null ? null : round(m.answeredAt - t0),
    endedAtMs: round(m.endedAt - t0),
  };
}

export function notSent(req: ReplayRequest, plannedMs: number, reason: StopReason): RequestResult {
  return {
    idx: req.index,
    rid: req.rid ?? null,
    unfinishedInDump: req.unfinished,
    stream: req.stream,
    plannedStartMs: round(plannedMs),
    actualStartMs: null,
    startErrorMs: null,
    capDelayMs: null,
    outcome: { kind: 'not-sent', reason },
    status: null,
    ttftMs: null,
    e2eMs: null,
    gaps: null,
    promptTokens: null,
    completionTokens: null,
    recordedPromptTokens: req.recordedPromptTokens ?? null,
    recordedCompletionTokens: req.recordedCompletionTokens ?? null,
    recordedE2eMs: recordedE2e(req),
    finishReason: null,
    bytes: 0,
    answeredAtMs: null,
    endedAtMs: null,
  };
}
