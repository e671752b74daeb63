/**
 * Did the incident reproduce? Pure function of a finished replay run.
 *
 * `reproduced` values, checked in this order (the first that applies wins; findings beat
 * "inconclusive" even when the replay was interrupted):
 *   'hang'   a request hit its deadline (--timeout) STALLED: nothing had arrived on it for at least
 *            min(5 s, timeout/2) (no status line, no first token, or tokens stopped), or the target
 *            went a whole deadline without sending a byte on any request. If the target also died,
 *            'hang' still wins when the first stalled request was sent before the death (a watchdog
 *            killing a hung server is the hang's consequence).
 *   'crash'  the target died: refused connections after having answered (markServerDied).
 *   true     the target answered errors: 5xx, an error event in a stream, an `abort` finish reason,
 *            a reset connection, or a stream cut before [DONE]. (4xx is the replay being rejected,
 *            not the incident: see 'inconclusive'.)
 *   'inconclusive'  nothing above, and the replay could not judge: stopped by Ctrl-C before the
 *            end, the target never answered (wrong URL, not started), or every answer was 4xx
 *            (401/403: token; 400: the target rejects the recorded requests).
 *   'slow'   a request was still receiving tokens when its deadline hit (too slow, not stalled), or
 *            every request ok, and either the median stream TTFT >= 2 s (the triage method's TTFT
 *            threshold), or the dump had only finished requests and the replay's median e2e is
 *            >= 0.8 x the recorded e2e with a recorded median >= 2 s: the clean target is as slow as
 *            production was, so the slowness is in the request path, not production load.
 *   false    every request answered ok and fast enough: the incident did not reproduce.
 */
import type { RequestResult, ReplayRun } from './engine.js';
import type { Outcome } from './outcome.js';
import type { ReplayRequest } from './types.js';

export type Reproduced = 'hang' | 'crash' | true | 'inconclusive' | 'slow' | false;

export const SLOW_TTFT_MS = 2000;
export const SLOW_RECORDED_E2E_MS = 2000;
export const SLOW_RATIO = 0.8;

export interface TriggerRequest {
  idx: number;
  rid: string | null;
  promptTokens: number | null;
  /** The prompt's first characters (or its shape, e.g. `"hello " * 768`). */
  textPreview: string | null;
  promptChars: number | null;
  unfinishedInDump: boolean;
  outcome: Outcome['kind'];
  why: string;
}

export interface VsRecorded {
  compared: number;
  medianRatio: number;
  recordedMedianMs: number;
  replayMedianMs: number;
}

export interface Verdict {
  reproduced: Reproduced;
  why: string;
  trigger: TriggerRequest | null;
  vsRecorded: VsRecorded | null;
}

export function median(values: readonly number[]): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function compareWithRecorded(results: readonly RequestResult[]): VsRecorded | null {
  const pairs = results.filter((r) => r.outcome.kind === 'ok' && r.e2eMs !== null && r.recordedE2eMs !== null && r.recordedE2eMs > 0);
  if (!pairs.length) return null;
  const ratio = median(pairs.map((r) => r.e2eMs! / r.recordedE2eMs!))!;
  return {
    compared: pairs.length,
    medianRatio: Math.round(ratio * 1000) / 1000,
    recordedMedianMs: Math.round(median(pairs.map((r) => r.recordedE2eMs!))!),
    replayMedianMs: Math.round(median(pairs.map((r) => r.e2eMs!))!),
  };
}

/** Server-side errors that count as the incident showing again. */
export function isErrorFinding(o: Outcome): boolean {
  if (o.kind === 'reset') return true;
  if (o.kind === 'bad-body') return o.reason === 'truncated';
  if (o.kind === 'http-error') return o.source !== 'status' || o.status >= 500;
  return false;
}

export function decide(run: ReplayRun): Verdict {
  const rs = run.results;
  const vsRecorded = compareWithRecorded(rs);
  const stallMs = Math.min(5000, run.options.timeoutMs / 2);
  const isStall = (o: Outcome) => o.kind === 'timeout' && o.idleMs >= stallMs;
  const timeouts = rs.filter((r) => isStall(r.outcome));
  const flowing = rs.filter((r) => r.outcome.kind === 'timeout' && !isStall(r.outcome));
  const died = run.diedAtMs !== null;
  const firstTimeoutStart = timeouts.reduce((min, r) => Math.min(min, r.actualStartMs ?? Infinity), Infinity);
  const pick = (cands: RequestResult[], why: string) => trigger(run, cands, why);

  if ((timeouts.length || run.hungAtMs !== null) && (!died || firstTimeoutStart < run.diedAtMs!)) {
    const t = timeouts[0]?.outcome;
    const secs = t && t.kind === 'timeout' ? Math.round(t.afterMs / 1000) : Math.round(run.options.timeoutMs / 1000);
    const stoppedAll = run.hungAtMs !== null ? '; the target then sent nothing at all for a whole deadline (stopped answering)' : '';
    return {
      reproduced: 'hang',
      why: `${timeouts.length} request(s) stalled and got no complete answer within ${secs} s${stoppedAll}${died ? '; the target died afterwards' : ''}`,
      trigger: pick(timeouts, 'first request to stall until its deadline'),
      vsRecorded,
    };
  }
  if (died) {
    const inFlight = rs.filter(
      (r) => (r.outcome.kind === 'server-died' && r.outcome.was === 'reset') || (r.outcome.kind === 'aborted' && r.outcome.reason === 'server-died'),
    );
    const refusedAfter = rs.filter((r) => r.outcome.kind === 'server-died' && r.outcome.was === 'refused').length;
    return {
      reproduced: 'crash',
      why: `the target stopped accepting connections at +${(run.diedAtMs! / 1000).toFixed(1)} s after answering earlier (${inFlight.length} in-flight request(s) cut, ${refusedAfter} refused)`,
      trigger: inFlight.length ? pick(inFlight, 'in flight when the target died') : null,
      vsRecorded,
    };
  }
  const errors = rs.filter((r) => isErrorFinding(r.outcome));
  if (errors.length) {
    const kinds = [...new Set(errors.map((r) => describeOutcome(r.outcome)))].slice(0, 3).join('; ');
    return { reproduced: true, why: `${errors.length} request(s) failed on the server side: ${kinds}`, trigger: pick(errors, 'first request the server failed'), vsRecorded };
  }
  if (flowing.length) {
    return {
      reproduced: 'slow',
      why: `${flowing.length} request(s) were still receiving tokens when their ${Math.round(run.options.timeoutMs / 1000)} s deadline passed (slow, not stalled)`,
      trigger: pick(flowing, 'first request still streaming at its deadline'),
      vsRecorded,
    };
  }
  if (run.stopped?.reason === 'signal') {
    const sent = rs.filter((r) => r.actualStartMs !== null).length;
    return { reproduced: 'inconclusive', why: `the replay was interrupted after ${sent} of ${rs.length} request(s), before anything failed`, trigger: null, vsRecorded };
  }
  const answered = rs.filter((r) => r.status !== null);
  if (!rs.length) return { reproduced: 'inconclusive', why: 'no request was selected for replay', trigger: null, vsRecorded };
  if (!answered.length) {
    const first = rs.find((r) => r.outcome.kind !== 'ok');
    return { reproduced: 'inconclusive', why: `the target never answered (${first ? describeOutcome(first.outcome) : 'no answer'})`, trigger: null, vsRecorded };
  }
  const oks = rs.filter((r) => r.outcome.kind === 'ok');
  if (!oks.length) {
    const statuses = [...new Set(answered.map((r) => r.status))].join(', ');
    const auth = answered.some((r) => r.status === 401 || r.status === 403) ? ' (401/403: check the token: --token, $SGLANG_BEARER_TOKEN or the server entry tokenEnv)' : '';
    return { reproduced: 'inconclusive', why: `the target rejected every request: HTTP ${statuses}${auth}`, trigger: null, vsRecorded };
  }
  const rejected = rs.length - oks.length;
  const note = rejected ? ` (${rejected} request(s) rejected or not ok: ${[...new Set(rs.filter((r) => r.outcome.kind !== 'ok').map((r) => describeOutcome(r.outcome)))].slice(0, 2).join('; ')})` : '';
  const ttft = median(oks.filter((r) => r.ttftMs !== null).map((r) => r.ttftMs!));
  if (!rejected && ttft !== null && ttft >= SLOW_TTFT_MS) {
    const slowest = [...oks].sort((a, b) => (b.ttftMs ?? 0) - (a.ttftMs ?? 0));
    return { reproduced: 'slow', why: `median TTFT ${(ttft / 1000).toFixed(2)} s on the clean target (>= ${SLOW_TTFT_MS / 1000} s)`, trigger: pick(slowest.slice(0, 1), 'slowest time to first token'), vsRecorded };
  }
  const crashDump = run.requests.some((r) => r.unfinished);
  if (!rejected && vsRecorded && !crashDump && vsRecorded.medianRatio >= SLOW_RATIO && vsRecorded.recordedMedianMs >= SLOW_RECORDED_E2E_MS) {
    const slowest = [...oks].filter((r) => r.recordedE2eMs).sort((a, b) => (b.e2eMs ?? 0) - (a.e2eMs ?? 0));
    return {
      reproduced: 'slow',
      why: `the clean target was as slow as production: median e2e ${(vsRecorded.replayMedianMs / 1000).toFixed(2)} s = ${vsRecorded.medianRatio}x the recorded ${(vsRecorded.recordedMedianMs / 1000).toFixed(2)} s`,
      trigger: pick(slowest.slice(0, 1), 'slowest request'),
      vsRecorded,
    };
  }
  const faster = vsRecorded && vsRecorded.medianRatio < 0.5 ? `; the replay was ${(1 / Math.max(vsRecorded.medianRatio, 0.001)).toFixed(1)}x faster than recorded (production load or state, not the request)` : '';
  return { reproduced: false, why: `${oks.length} of ${rs.length} request(s) answered ok${faster}${note}`, trigger: null, vsRecorded };
}

export function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'ok':
      return 'ok';
    case 'http-error':
      return o.source === 'status' ? `HTTP ${o.status}: ${o.message.slice(0, 80)}` : `${o.source}: ${o.message.slice(0, 80)}`;
    case 'timeout':
      return `timeout after ${Math.round(o.afterMs)} ms waiting for ${o.phase}`;
    case 'reset':
      return `connection reset (${o.code}) during ${o.phase}`;
    case 'refused':
      return `connection refused (${o.code})`;
    case 'server-died':
      return `server died (${o.was}, ${o.code})`;
    case 'bad-body':
      return `bad body (${o.reason})`;
    case 'aborted':
      return `aborted (${o.reason})`;
    case 'not-sent':
      return `not sent (${o.reason})`;
    case 'bad-record':
      return `bad record, not sent: ${o.message.slice(0, 80)}`;
  }
}

/** Phase rank: a request still waiting for its first token is a likelier trigger than one mid-decode. */
function phaseRank(o: Outcome): number {
  if ('phase' in o) return o.phase === 'body' ? 1 : 0;
  return 0;
}

/**
 * The likeliest trigger among candidates: unfinished in the dump first, then no token received yet,
 * then the earliest sent.
 */
function trigger(run: ReplayRun, cands: readonly RequestResult[], why: string): TriggerRequest | null {
  if (!cands.length) return null;
  const best = [...cands].sort(
    (a, b) =>
      Number(b.unfinishedInDump) - Number(a.unfinishedInDump) ||
      phaseRank(a.outcome) - phaseRank(b.outcome) ||
      (a.actualStartMs ?? Infinity) - (b.actualStartMs ?? Infinity),
  )[0]!;
  const req = run.requests.find((r) => r.index === best.idx);
  const prompt = req ? promptOf(req) : { text: null, ids: null };
  return {
    idx: best.idx,
    rid: best.rid,
    promptTokens: best.promptTokens ?? best.recordedPromptTokens ?? prompt.ids,
    textPreview: prompt.text === null ? (prompt.ids !== null ? `input_ids[${prompt.ids}]` : null) : previewText(prompt.text),
    promptChars: prompt.text?.length ?? null,
    unfinishedInDump: best.unfinishedInDump,
    outcome: best.outcome.kind,
    why,
  };
}

function promptOf(req: ReplayRequest): { text: string | null; ids: number | null } {
  let b: Record<string, unknown>;
  try {
    b = typeof req.body === 'function' ? req.body() : req.body;
  } catch {
    return { text: null, ids: null };
  }
  const text = typeof b.text === 'string' ? b.text : Array.isArray(b.text) && typeof b.text[0] === 'string' ? b.text[0] : null;
  const ids = Array.isArray(b.input_ids) ? (Array.isArray(b.input_ids[0]) ? (b.input_ids[0] as unknown[]).length : b.input_ids.length) : null;
  return { text, ids };
}

/** `"hello " * 768` for a repeated unit, else the first 80 characters. */
export function previewText(text: string, max = 80): string {
  for (let p = 1; p <= 32 && p * 2 <= text.length; p++) {
    if (text.length % p) continue;
    const unit = text.slice(0, p);
    if (unit.repeat(text.length / p) === text) return `${JSON.stringify(unit)} * ${text.length / p}`;
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
