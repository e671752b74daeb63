/**
 * The replay engine: sends recorded `/generate` requests to a target with their recorded relative
 * timing (scaled by --speed), at most `parallel` in flight, each with a deadline, and records one
 * outcome per request. A target that hangs or dies during the replay is a finding, not an error:
 * the engine stops sending, records why, and returns normally.
 */
import { Pool, type Dispatcher } from 'undici';
import { markServerDied, type StopReason } from './outcome.js';
import { DEFAULT_MAX_BODY_BYTES, generateUrl, prepareBody, resolveOptions, type ReplayOptions, type ResolvedOptions } from './options.js';
import { sendOne, type SendTarget } from './request.js';
import { badRecord, notSent, round, toResult, type RequestResult } from './results.js';
import { planOffsets, realClock, Scheduler, selectRequests, type Clock, type StartTiming } from './schedule.js';
import type { ReplayRequest } from './types.js';

// Callers import the replay's options and results from here, as before the split.
export { DEFAULT_MAX_BODY_BYTES, DEFAULT_PARALLEL, DEFAULT_TIMEOUT_MS, bodyOf, generateUrl, prepareBody, resolveOptions, type ReplayOptions, type ResolvedOptions } from './options.js';
export { round, summariseGaps, type GapSummary, type RequestResult } from './results.js';

/**
 * Where a replay stands: `sending` (requests still to start), `draining` (all started, some in
 * flight), `stopping` (stopped early: Ctrl-C, target hung or died; in-flight ones being cut),
 * `finished` (every request settled; the last report).
 */
export type ReplayPhase = 'sending' | 'draining' | 'stopping' | 'finished';

export interface ReplayProgress {
  phase: ReplayPhase;
  elapsedMs: number;
  /** Requests selected for this replay (after --req-start / --req-number). */
  total: number;
  /** Same as total (kept for older callers). */
  planned: number;
  sent: number;
  inFlight: number;
  /** Settled, whatever the outcome (done − failed answered ok). */
  done: number;
  failed: number;
  /** Age of the oldest request still in flight, ms (0 when none): a hang shows as this growing. */
  oldestInFlightMs: number;
  /** Dump index (ReplayRequest.index) of that request, null when none. */
  oldestInFlightIdx: number | null;
  /** Why sending stopped, once it has. */
  stopReason: StopReason | null;
}

/** The counters of a progress report, for StepProgress.counters (src/contracts/progress.ts). */
export function progressCounters(p: ReplayProgress): Record<string, number> {
  return { sent: p.sent, done: p.done, failed: p.failed, inFlight: p.inFlight, total: p.total, oldestInFlightMs: Math.round(p.oldestInFlightMs) };
}

export interface ReplayDeps {
  signal: AbortSignal;
  /** undici dispatcher; default: one Pool for the target origin with `parallel` connections. */
  dispatcher?: Dispatcher;
  clock?: Clock;
  /**
   * Called every `progressIntervalMs` (default 1000) while the replay runs, on every change of
   * phase, and once at the end (phase 'finished'). Must not throw (a throw is ignored).
   */
  onProgress?: (p: ReplayProgress) => void;
  progressIntervalMs?: number;
  /** Scheduler polling window (see Scheduler); default DEFAULT_SPIN_MS. */
  spinMs?: number;
}

export interface ReplayRun {
  options: ResolvedOptions;
  startedAtWall: number;
  finishedAtWall: number;
  durationMs: number;
  /** The selected requests, in plan order, parallel to `results` (for previews; not serialised whole). */
  requests: ReplayRequest[];
  results: RequestResult[];
  /** Set when the replay stopped sending before the end of the plan. */
  stopped: { reason: StopReason; atMs: number } | null;
  /** When the target was seen to stop answering (a deadline passed with two or more requests sent and no byte back). */
  hungAtMs: number | null;
  /** When the target stopped accepting connections after having answered (markServerDied). */
  diedAtMs: number | null;
  lastAnswerAtMs: number | null;
}

export async function runReplay(input: readonly ReplayRequest[], options: ReplayOptions, deps: ReplayDeps): Promise<ReplayRun> {
  const opts = resolveOptions(options);
  const clock = deps.clock ?? realClock;
  const url = generateUrl(options.target);
  const requests = selectRequests(input, { reqStart: opts.reqStart, ...(opts.reqNumber !== null ? { reqNumber: opts.reqNumber } : {}) });
  const plan = planOffsets(requests, opts.speed);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;

  // One pool, one connection per in-flight request. Our own deadlines replace undici's timeouts.
  // Idle sockets close after 2 s, well before uvicorn's 5 s keep-alive, so a POST is never written
  // to a socket the server is closing (that would read as a false 'reset').
  const ownDispatcher = deps.dispatcher
    ? null
    : new Pool(url.origin, {
        connections: Math.min(opts.parallel, 4096),
        pipelining: 1,
        headersTimeout: 0,
        bodyTimeout: 0,
        keepAliveTimeout: 2_000,
        keepAliveMaxTimeout: 2_000,
        connectTimeout: Math.min(opts.timeoutMs, 30_000),
      });
  const dispatcher = deps.dispatcher ?? ownDispatcher!;

  const inFlight = new Set<AbortController>();
  /** Start time of each request in flight, by plan position; insertion order is start order. */
  const startedAt = new Map<number, number>();
  let abortReason: StopReason | null = null;
  const results: Array<RequestResult | undefined> = new Array(requests.length);
  const answered: number[] = [];
  let t0 = 0;
  let firstAnswerAt = Infinity;
  let lastLifeAt = -Infinity;
  /** Requests sent since the target last showed life (a status line or a byte on any request). */
  let sentSinceLife = 0;
  let stopped: ReplayRun['stopped'] = null;
  let done = 0;
  let failed = 0;

  let hungAtMs: number | null = null;
  const stop = (reason: StopReason) => {
    const at = round(clock.now() - t0);
    if (reason === 'target-hung') hungAtMs ??= at;
    if (stopped || (reason !== 'signal' && !opts.stopWhenTargetGone)) return;
    stopped = { reason, atMs: at };
    abortReason = reason;
    scheduler.stop();
    for (const ac of inFlight) ac.abort(reason);
    report();
  };

  const target: SendTarget = {
    dispatcher,
    origin: url.origin,
    path: `${url.pathname}`,
    headers,
    clock,
    timeoutMs: opts.timeoutMs,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    track(ac) {
      if (abortReason) ac.abort(abortReason);
      inFlight.add(ac);
      return () => inFlight.delete(ac);
    },
    onAnswer(at) {
      answered.push(at - t0);
      if (at < firstAnswerAt) firstAnswerAt = at;
      if (at > lastLifeAt) lastLifeAt = at;
      sentSinceLife = 0;
    },
    onBytes(at) {
      if (at > lastLifeAt) lastLifeAt = at;
      sentSinceLife = 0;
    },
  };

  const launch = async (i: number, timing: StartTiming): Promise<void> => {
    const req = requests[i]!;
    const startAbs = clock.now();
    let body: string;
    try {
      body = JSON.stringify(prepareBody(req, opts.ignoreEos));
    } catch (err) {
      // A record whose body cannot be built is skipped and counted; the replay goes on.
      results[i] = toResult(req, timing, badRecord(err, startAbs), t0);
      done++;
      failed++;
      report();
      return;
    }
    startedAt.set(i, startAbs);
    sentSinceLife++;
    if (scheduler.sent >= requests.length) report();
    const m = await sendOne(body, target);
    startedAt.delete(i);
    results[i] = toResult(req, timing, m, t0);
    done++;
    if (m.outcome.kind !== 'ok') failed++;
    // The target stopped answering: this request got nothing for a whole deadline, the target sent
    // nothing on ANY request since it was sent, and at least one other request was sent in that
    // silence too (so a request-shaped hang at --parallel 1, with a server that would still answer
    // the next request, is not mistaken for a dead target).
    if (m.outcome.kind === 'timeout' && lastLifeAt < startAbs && sentSinceLife >= 2) stop('target-hung');
    // Refused after having answered: the listening socket is gone (see markServerDied).
    if (m.outcome.kind === 'refused' && m.endedAt >= firstAnswerAt) stop('server-died');
  };

  const scheduler = new Scheduler({ plan, parallel: opts.parallel, clock, launch, ...(deps.spinMs !== undefined ? { spinMs: deps.spinMs } : {}) });
  const onSignal = () => stop('signal');
  const startedAtWall = clock.wallNow();
  t0 = clock.now();
  let cancelProgress: (() => void) | null = null;
  const interval = deps.progressIntervalMs ?? 1000;
  let lastPhase: ReplayPhase | null = null;
  let finished = false;
  const phaseNow = (): ReplayPhase => (finished ? 'finished' : stopped ? 'stopping' : scheduler.sent >= requests.length ? 'draining' : 'sending');
  const snapshot = (): ReplayProgress => {
    const now = clock.now();
    const oldest = startedAt.entries().next();
    const total = requests.length;
    return {
      phase: phaseNow(),
      elapsedMs: now - t0,
      total,
      planned: total,
      sent: scheduler.sent,
      inFlight: startedAt.size,
      done,
      failed,
      oldestInFlightMs: oldest.done ? 0 : now - oldest.value[1],
      oldestInFlightIdx: oldest.done ? null : requests[oldest.value[0]]!.index,
      stopReason: (stopped as ReplayRun['stopped'])?.reason ?? null,
    };
  };
  /** Reports a change of phase at once (the interval timer reports the rest). */
  function report(force = false): void {
    if (!deps.onProgress) return;
    const phase = phaseNow();
    if (!force && phase === lastPhase) return;
    lastPhase = phase;
    try {
      deps.onProgress(snapshot());
    } catch {
      // a progress sink never stops a replay
    }
  }
  const tick = () => {
    report(true);
    cancelProgress = clock.setTimer(tick, interval);
  };
  if (deps.onProgress) cancelProgress = clock.setTimer(tick, interval);
  try {
    if (deps.signal.aborted) onSignal();
    else deps.signal.addEventListener('abort', onSignal, { once: true });
    const running = scheduler.run(t0);
    report();
    if (deps.signal.aborted) scheduler.stop();
    await running;
  } finally {
    deps.signal.removeEventListener('abort', onSignal);
    (cancelProgress as (() => void) | null)?.();
    if (ownDispatcher) await ownDispatcher.destroy().catch(() => undefined);
  }
  finished = true;
  report(true);
  const durationMs = round(clock.now() - t0);
  const stopReason: StopReason = (stopped as ReplayRun['stopped'])?.reason ?? 'signal';
  const filled: RequestResult[] = requests.map((req, i) => results[i] ?? notSent(req, plan[i]!, stopReason));
  const death = markServerDied(filled, answered);
  filled.forEach((r, i) => (r.outcome = death.outcomes[i]!));
  return {
    options: opts,
    startedAtWall,
    finishedAtWall: clock.wallNow(),
    durationMs,
    requests,
    results: filled,
    stopped,
    hungAtMs,
    diedAtMs: death.diedAtMs === null ? null : round(death.diedAtMs),
    lastAnswerAtMs: death.lastAnswerAtMs === null ? null : round(death.lastAnswerAtMs),
  };
}

