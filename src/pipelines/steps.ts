import { TriageError, throwIfAborted } from '../errors.js';
import { readIncidentFile, writeIncidentFile, type IncidentFile } from '../incident/incident-file.js';
import type { PipelineDeps, ProgressSink, StepProgress } from './types.js';

/**
 * Runs one named step: reports started/done/failed, appends it to incident.json's timeline, and
 * enforces the step's own deadline on top of the caller's signal.
 */
export async function runStep<T>(
  name: string,
  ctx: { incidentDir: string; deps: PipelineDeps; signal: AbortSignal; onProgress: ProgressSink },
  deadlineMs: number,
  body: (signal: AbortSignal) => Promise<T>,
  describe?: (value: T) => string,
): Promise<T> {
  throwIfAborted(ctx.signal, name);
  await emit(ctx, { step: name, state: 'started', at: ctx.deps.now().toISOString() });
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(deadlineMs)]);
  try {
    const value = await body(signal);
    await emit(ctx, { step: name, state: 'done', at: ctx.deps.now().toISOString(), ...(describe ? { detail: describe(value) } : {}) });
    return value;
  } catch (err) {
    const timedOut = signal.aborted && !ctx.signal.aborted;
    const error = timedOut ? new TriageError('E_TIMEOUT', `step ${name} passed its ${Math.round(deadlineMs / 1000)} s deadline`, { cause: err }) : err;
    await emit(ctx, { step: name, state: 'failed', at: ctx.deps.now().toISOString(), detail: (error as Error).message });
    throw error;
  }
}

async function emit(ctx: { incidentDir: string; deps: PipelineDeps; onProgress: ProgressSink }, progress: StepProgress): Promise<void> {
  ctx.onProgress(progress);
  await appendTimeline(ctx.incidentDir, progress, ctx.deps);
}

export async function appendTimeline(dir: string, progress: StepProgress, deps: PipelineDeps): Promise<void> {
  const incident = await readIncidentFile(dir);
  if (!incident) return;
  await writeIncidentFile(dir, {
    ...incident,
    updatedAt: deps.now().toISOString(),
    timeline: [...incident.timeline, { at: progress.at, step: progress.step, state: progress.state, ...(progress.detail ? { detail: progress.detail } : {}) }],
  });
}

export async function updateIncident(dir: string, patch: Partial<IncidentFile>, deps: PipelineDeps): Promise<void> {
  const incident = await readIncidentFile(dir);
  if (!incident) return;
  await writeIncidentFile(dir, { ...incident, ...patch, updatedAt: deps.now().toISOString() });
}
