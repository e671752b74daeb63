/**
 * Replay timing: which requests to send, when, and a single timer-driven dispatcher that starts
 * them on time with at most `parallel` in flight.
 *
 * Timing formula (done properly, unlike the stock script, which divides the REMAINING sleep by
 * --speed inside each worker thread): request i is planned at
 *     t0 + (createdAt_i − createdAt_first) / speed
 * where createdAt_first is the earliest selected request (after --req-start / --req-number).
 */
import type { ReplayRequest } from './types.js';

/** Monotonic clock and timers, passed in (tests and benches may substitute). */
export interface Clock {
  /** Milliseconds, monotonic (performance.now()). */
  now(): number;
  /** Wall-clock epoch milliseconds, for started/finished stamps. */
  wallNow(): number;
  setTimer(fn: () => void, ms: number): () => void;
  /** Runs fn on the next event-loop turn (after pending I/O): used to poll the last milliseconds. */
  setImmediate(fn: () => void): () => void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
  setImmediate(fn) {
    const t = setImmediate(fn);
    return () => clearImmediate(t);
  },
};

export interface Selection {
  /** Drop this many requests (after sorting by creation time). */
  reqStart?: number;
  /** Then keep at most this many. */
  reqNumber?: number;
}

/** Sorts by recorded creation time (ties keep dump order) and applies --req-start / --req-number. */
export function selectRequests(requests: readonly ReplayRequest[], selection: Selection = {}): ReplayRequest[] {
  const sorted = [...requests].sort((a, b) => a.createdAt - b.createdAt || a.index - b.index);
  const start = selection.reqStart ?? 0;
  const end = selection.reqNumber === undefined ? undefined : start + selection.reqNumber;
  return sorted.slice(start, end);
}

/** Planned start offsets in ms from t0, non-decreasing, for requests already sorted by `selectRequests`. */
export function planOffsets(requests: readonly ReplayRequest[], speed: number): number[] {
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed must be a positive number, got ${speed}`);
  const first = requests[0]?.createdAt ?? 0;
  let prev = 0;
  return requests.map((r) => {
    const raw = Number.isFinite(r.createdAt) ? ((r.createdAt - first) * 1000) / speed : prev;
    prev = Math.max(prev, raw, 0);
    return prev;
  });
}

/**
 * Polling window before a planned start (setImmediate instead of a timer for the last `spinMs`).
 * Off by default: the replay usually runs on the GPU host beside the target's CPU-bound scheduler
 * process, and polling burns up to a core (min(1, rate x spinMs)); on a busy CPU it even makes the
 * tail worse, because the OS favours processes that sleep (bench/replay.bench.ts shows both cases).
 * Timers alone start requests about 1 ms late. Pass spinMs (e.g. 1) on a quiet host for ~0.1 ms.
 */
export const DEFAULT_SPIN_MS = 0;

/** When a request actually started, relative to its plan (all ms since t0). */
export interface StartTiming {
  plannedMs: number;
  /** When it could start: its planned time, or later when the parallel cap held it back. */
  readyMs: number;
  startedMs: number;
}

export interface SchedulerOptions {
  /** Planned offsets (ms since t0), non-decreasing. */
  plan: readonly number[];
  parallel: number;
  clock: Clock;
  /**
   * Starts request i. Must return a promise that settles when the request is done (it must not
   * reject; outcomes are values). The slot is freed when it settles.
   */
  launch(i: number, timing: StartTiming): Promise<void>;
  /**
   * Arm the timer this many ms early and poll the last stretch with setImmediate (setTimeout alone
   * fires ~1 ms late). Default DEFAULT_SPIN_MS (0: timers only).
   */
  spinMs?: number;
}

/**
 * One scheduler for the whole replay: a single timer (optionally setImmediate polling for the last
 * `spinMs`) wakes it at the next planned start; completions wake it when the cap was full.
 * There is never more than one pending timer, whatever the number of requests.
 */
export class Scheduler {
  private readonly plan: readonly number[];
  private readonly parallel: number;
  private readonly clock: Clock;
  private readonly launchFn: SchedulerOptions['launch'];
  private readonly spinMs: number;
  private t0 = 0;
  private next = 0;
  private inFlight = 0;
  private stopped = false;
  private cancelWake: (() => void) | null = null;
  private resolveDone: (() => void) | null = null;
  private started = false;

  constructor(options: SchedulerOptions) {
    if (!(options.parallel >= 1)) throw new RangeError(`parallel must be >= 1, got ${options.parallel}`);
    this.plan = options.plan;
    this.parallel = options.parallel;
    this.clock = options.clock;
    this.launchFn = options.launch;
    this.spinMs = options.spinMs ?? DEFAULT_SPIN_MS;
  }

  /** Requests started so far (the rest were never sent if the scheduler was stopped). */
  get sent(): number {
    return this.next;
  }

  get active(): number {
    return this.inFlight;
  }

  /** Starts dispatching with t0 = clock.now(); resolves when every started request settled and nothing is left (or stop() was called). */
  run(t0 = this.clock.now()): Promise<void> {
    if (this.started) throw new Error('Scheduler.run called twice');
    this.started = true;
    this.t0 = t0;
    const done = new Promise<void>((resolve) => {
      this.resolveDone = resolve;
    });
    this.pump(undefined);
    return done;
  }

  /** Sends nothing more; run() resolves once the in-flight requests settle. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cancelWake?.();
    this.cancelWake = null;
    this.maybeFinish();
  }

  private pump(releasedAt: number | undefined): void {
    this.cancelWake?.();
    this.cancelWake = null;
    if (this.stopped) return this.maybeFinish();
    const now = this.clock.now() - this.t0;
    while (this.next < this.plan.length && this.inFlight < this.parallel) {
      const planned = this.plan[this.next]!;
      if (planned > now) break;
      const i = this.next++;
      // Held back by the cap: it became ready when the slot freed, not at its planned time.
      const readyMs = releasedAt !== undefined && releasedAt > planned ? releasedAt : planned;
      this.inFlight++;
      const startedMs = this.clock.now() - this.t0;
      let settled: Promise<void>;
      try {
        settled = this.launchFn(i, { plannedMs: planned, readyMs, startedMs });
      } catch {
        settled = Promise.resolve();
      }
      settled.then(
        () => this.release(),
        () => this.release(),
      );
      releasedAt = undefined; // one release frees one slot
      if (this.stopped) return this.maybeFinish();
    }
    if (this.next >= this.plan.length) return this.maybeFinish();
    if (this.inFlight >= this.parallel) return; // a completion will wake us
    this.arm(this.plan[this.next]! - (this.clock.now() - this.t0));
  }

  private arm(delay: number): void {
    const wake = () => this.pump(undefined);
    if (delay <= 0) this.cancelWake = this.clock.setImmediate(wake); // came due while launching
    else if (delay > this.spinMs) this.cancelWake = this.clock.setTimer(wake, delay - this.spinMs);
    else this.cancelWake = this.clock.setImmediate(wake); // inside the polling window
  }

  private release(): void {
    const wasFull = this.inFlight >= this.parallel;
    this.inFlight--;
    if (wasFull || this.stopped || this.next >= this.plan.length) this.pump(wasFull ? this.clock.now() - this.t0 : undefined);
  }

  private maybeFinish(): void {
    if (this.inFlight > 0) return;
    if (!this.stopped && this.next < this.plan.length) return;
    const resolve = this.resolveDone;
    this.resolveDone = null;
    resolve?.();
  }
}
