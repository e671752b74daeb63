import { TriageError, throwIfAborted } from '../errors.js';
import type { StepProgress } from '../contracts/progress.js';

export interface StepHost {
  signal: AbortSignal;
  now: () => Date;
  /** Progress to the caller's sink and to incident.json's timeline. */
  emit: (progress: StepProgress) => Promise<void>;
}

/**
 * Runs one named step under its own deadline on top of the caller's signal. The step's promise is raced
 * against the deadline and the caller's abort, so a step that ignores its signal still ends on time: it
 * is left to finish in the background with its signal aborted, and its result is dropped.
 */
export async function runStep<T>(name: string, host: StepHost, deadlineMs: number, body: (signal: AbortSignal) => Promise<T>, describe?: (value: T) => string): Promise<T> {
  throwIfAborted(host.signal, name);
  const started = host.now();
  const deadline = new Date(started.getTime() + deadlineMs);
  await host.emit({ step: name, state: 'started', at: started.toISOString(), deadline: deadline.toISOString() });
  const own = new AbortController();
  const signal = AbortSignal.any([host.signal, own.signal]);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new TriageError('E_TIMEOUT', `step ${name} passed its ${formatSeconds(deadlineMs)} deadline`);
      own.abort(err);
      reject(err);
    }, deadlineMs);
  });
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new TriageError('E_ABORTED', `step ${name} was stopped: ${String(host.signal.reason ?? 'aborted')}`, { cause: host.signal.reason }));
    // The caller may have aborted while the 'started' entry was being written: a listener added now
    // would never fire.
    if (host.signal.aborted) onAbort();
    else host.signal.addEventListener('abort', onAbort, { once: true });
  });
  const work = body(signal);
  work.catch(() => undefined); // a step left behind after its deadline must not become an unhandled rejection
  try {
    const value = await Promise.race([work, timedOut, aborted]);
    await host.emit({ step: name, state: 'done', at: host.now().toISOString(), ...(describe ? { detail: describe(value) } : {}) });
    return value;
  } catch (err) {
    const error = own.signal.aborted && !host.signal.aborted && !(err instanceof TriageError && err.code === 'E_TIMEOUT') ? new TriageError('E_TIMEOUT', `step ${name} passed its ${formatSeconds(deadlineMs)} deadline`, { cause: err }) : err;
    await host.emit({ step: name, state: 'failed', at: host.now().toISOString(), detail: (error as Error).message });
    throw error;
  } finally {
    clearTimeout(timer);
    if (onAbort) host.signal.removeEventListener('abort', onAbort);
  }
}

export async function skipStep(name: string, host: StepHost, why: string): Promise<void> {
  await host.emit({ step: name, state: 'skipped', at: host.now().toISOString(), detail: why });
}

function formatSeconds(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 100) / 10} s`;
}
