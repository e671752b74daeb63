import path from 'node:path';
import type { StepProgress } from '../contracts/progress.js';
import { openIncident, patchIncident } from '../incident/journal.js';
import { incidentPaths, newIncidentId } from '../incident/layout.js';
import { CLEANUP_STAGE, PIPELINES } from './definitions.js';
import type { RunContext, Stage } from './context.js';
import { runStep, skipStep } from './run-step.js';
import type { PipelineDeps, PipelineRequest, PipelineResult, ProgressSink } from './types.js';

const CLEANUP_DEADLINE_MS = 60_000;

/**
 * The one pipeline runner: the CLI calls it in-process, the worker inside a BullMQ job. It walks the
 * pipeline's stages (definitions.ts). Evidence stages are best effort: a failed or late stage is on the
 * timeline and the folder is still routed. Only the caller's own abort stops the run, and even then the
 * clean target this run started is stopped before the error goes up.
 */
export async function runPipeline(req: PipelineRequest, deps: PipelineDeps, signal: AbortSignal, onProgress: ProgressSink): Promise<PipelineResult> {
  const definition = PIPELINES[req.pipeline];
  const paths = incidentPaths(req.incidentDir);
  await openIncident(paths.root, () => {
    const base = path.basename(paths.root);
    return {
      id: base.startsWith('inc-') ? base : newIncidentId(req.server.name ?? 'adhoc', deps.now()),
      server: req.server.name ?? req.server.url,
      serverUrl: req.server.url,
      ...(req.server.host ? { host: req.server.host } : {}),
      status: 'open',
      createdAt: deps.now().toISOString(),
      timeline: [],
    };
  });
  const ctx: RunContext = {
    req,
    deps,
    paths,
    server: req.server.name !== undefined ? req.server : undefined,
    replay: definition.replay,
    state: { bundleSummary: null, files: [] },
    signal,
    now: deps.now,
    emit: async (p: StepProgress) => {
      onProgress(p);
      await patchIncident(paths.root, {}, new Date(p.at), { step: p.step, state: p.state, ...(p.detail ? { detail: p.detail } : {}) });
    },
    tick: (step, detail, counters) => onProgress({ step, state: 'started', at: deps.now().toISOString(), detail, ...(counters ? { counters } : {}) }),
  };
  await patchIncident(paths.root, { status: 'running', pipeline: req.pipeline }, deps.now());

  try {
    for (const stage of definition.stages) await runStage(stage, ctx);
    return { incidentDir: paths.root, report: ctx.state.report ?? null, bundleSummary: ctx.state.bundleSummary, files: ctx.state.files };
  } catch (err) {
    await patchIncident(paths.root, { status: 'failed' }, deps.now());
    throw err;
  } finally {
    await cleanup(ctx);
  }
}

async function runStage(stage: Stage, ctx: RunContext): Promise<void> {
  const why = stage.skip?.(ctx);
  if (why) return skipStep(stage.title, ctx, why);
  try {
    await runStep(stage.title, ctx, stage.deadlineMs(ctx), (s) => stage.run(ctx, s), (detail) => detail);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    if (stage.title === 'route') throw err; // nothing to route with: the run failed
    ctx.deps.logger.warn('pipeline step failed; routing what was collected', { incidentDir: ctx.paths.root, step: stage.title, err: (err as Error).message });
  }
}

/** A target this run started is stopped whatever happened: the run ended, failed, timed out or was cancelled. */
async function cleanup(ctx: RunContext): Promise<void> {
  if (ctx.state.target?.kind !== 'managed' || ctx.state.targetStopped) return;
  // The run's own signal may be aborted already: stopping gets a fresh deadline of its own.
  const host = { ...ctx, signal: AbortSignal.timeout(CLEANUP_DEADLINE_MS) };
  await runStep(CLEANUP_STAGE.title, host, CLEANUP_DEADLINE_MS, (s) => CLEANUP_STAGE.run(host, s), (d) => d).catch((err: Error) =>
    ctx.deps.logger.error('could not stop the clean target', { pgid: ctx.state.target?.kind === 'managed' ? ctx.state.target.target.pgid : null, err: err.message }),
  );
}
