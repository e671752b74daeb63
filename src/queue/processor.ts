import path from 'node:path';
import { UnrecoverableError, type Job } from 'bullmq';
import type { z } from 'zod';
import { cleanTargetUrl } from '../config/clean-target.js';
import { findServer, type NamedServer, type Registry } from '../config/servers.js';
import { ERROR_CODES, describeError, isTriageError } from '../errors.js';
import { openIncident, patchIncident } from '../incident/journal.js';
import type { IncidentStore } from '../incident/store.js';
import { applyStep, stepEntry } from '../incident/timeline.js';
import type { StepView } from '../incident/types.js';
import type { Logger, PipelineDeps, PipelineRequest, StepProgress } from '../pipelines/types.js';
import { MARK_JOB, markJobSchema, pipelineJobSchema, type JobProgress, type JobResult, type PipelineJobData, type PipelineRunner } from './jobs.js';
import type { WorkerMetrics } from './metrics.js';
import type { ResultPublisher } from './results-stream.js';

export interface ProcessorDeps {
  host: string;
  registry: Registry;
  dataDir: string;
  runPipeline: PipelineRunner;
  pipelineDeps: PipelineDeps;
  store: IncidentStore;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Hard deadline of one attempt; the pipeline's own step deadlines sit inside it. */
  jobTimeoutMs: number;
  /** The shared results stream the bots read (progress here; outcomes in worker.ts). */
  results: ResultPublisher;
}

export type TriageProcessor = (job: Job, token: string | undefined, signal?: AbortSignal) => Promise<JobResult | { marked: string }>;

/**
 * The host-side job body: validate, run the one pipeline implementation, record progress in
 * Redis and as job progress (the bot turns it into Slack updates), and map errors onto the
 * queue's retry policy: bad input never retries, transient faults do.
 */
export function createProcessor(deps: ProcessorDeps): TriageProcessor {
  // Three declared parameters: BullMQ passes the cancellation signal only to such processors.
  return async function processTriageJob(job, _token, signal) {
    if (job.name === MARK_JOB) return markIncident(job, deps);
    const data = parse(pipelineJobSchema, job.data, 'job data');
    const server = serverFor(deps, data.server);
    const target = targetFor(deps.registry, data);
    const request: PipelineRequest = {
      pipeline: data.pipeline,
      server,
      incidentDir: path.resolve(deps.dataDir, data.incidentId),
      ...(data.timeoutS ? { timeoutS: data.timeoutS } : {}),
      ...(target ? { target } : {}),
      ...(data.regression ? { regression: data.regression } : {}),
      ...(data.compareProduction ? { compareProduction: true } : {}),
    };
    const jobId = job.id ?? '';
    const attempt = job.attemptsMade + 1;
    const log = deps.logger;
    const started = performance.now();
    const labels = { pipeline: data.pipeline };
    const progress = progressRecorder(job, data, attempt, deps);
    const deadline = AbortSignal.timeout(deps.jobTimeoutMs);
    deps.metrics.active.inc();
    try {
      await prepareIncidentFolder(request.incidentDir, data, server);
      await deps.store.updateForJob(data.incidentId, jobId, { jobState: 'running', attempt, steps: [], incidentDir: request.incidentDir });
      const result = await deps.runPipeline(request, deps.pipelineDeps, signal ? AbortSignal.any([signal, deadline]) : deadline, progress.sink);
      await progress.settled();
      const report = result.report ?? undefined;
      // The newest verdict always wins; the job-state fields only while this is the current job.
      await deps.store.update(data.incidentId, {
        artifacts: result.files,
        incidentDir: result.incidentDir,
        ...(report ? { report, problemClass: report.problemClass, nextSkill: report.nextStep.skill } : {}),
      });
      await deps.store.updateForJob(data.incidentId, jobId, { jobState: 'done', steps: progress.steps() });
      deps.metrics.jobs.inc({ ...labels, outcome: 'completed' });
      deps.metrics.duration.observe({ ...labels, outcome: 'completed' }, (performance.now() - started) / 1000);
      log.info('job completed', { jobId, incidentId: data.incidentId, pipeline: data.pipeline, problemClass: report?.problemClass });
      return { incidentId: data.incidentId, pipeline: data.pipeline, incidentDir: result.incidentDir, problemClass: report?.problemClass ?? null, files: result.files };
    } catch (err) {
      await progress.settled();
      const mapped = toQueueError(err, { deadlinePassed: deadline.aborted, jobTimeoutMs: deps.jobTimeoutMs });
      const final = mapped instanceof UnrecoverableError || attempt >= (job.opts.attempts ?? 1);
      const outcome = final ? 'failed' : 'retry';
      deps.metrics.jobs.inc({ ...labels, outcome });
      deps.metrics.duration.observe({ ...labels, outcome }, (performance.now() - started) / 1000);
      log.warn('job attempt failed', { jobId, incidentId: data.incidentId, attempt, final, err: mapped });
      await deps.store.updateForJob(data.incidentId, jobId, { jobState: final ? 'failed' : 'retrying', failure: mapped.message }).catch(() => undefined);
      if (!final) await deps.store.append(data.incidentId, { kind: 'retry', pipeline: data.pipeline, text: `attempt ${attempt} failed, retrying: ${mapped.message}` }).catch(() => undefined);
      throw mapped;
    } finally {
      deps.metrics.active.dec();
    }
  };
}

/**
 * The pipeline's progress, in order, into job progress (the bot redraws Slack from it), the
 * incident's steps and its timeline. Chained so Redis sees progress in order; a slow Redis never
 * blocks the pipeline itself, and a failed write is logged, not fatal.
 */
function progressRecorder(job: Job, data: PipelineJobData, attempt: number, deps: ProcessorDeps) {
  let steps: StepView[] = [];
  let writes: Promise<unknown> = Promise.resolve();
  const sink = (progress: StepProgress): void => {
    // A tick of a running step (same step, still started: counters, detail) updates the live view, not the timeline.
    const previous = steps.find((s) => s.step === progress.step);
    const changed = !previous || previous.state !== progress.state;
    steps = applyStep(steps, progress);
    const snapshot = steps;
    const payload: JobProgress = { incidentId: data.incidentId, server: data.server, pipeline: data.pipeline, attempt, steps: snapshot, ...(data.slack ? { slack: data.slack } : {}) };
    writes = writes
      .then(() =>
        Promise.all([
          job.updateProgress(payload),
          deps.results.publish({ type: 'progress', host: deps.host, jobId: job.id ?? '', progress: payload }),
          deps.store.updateForJob(data.incidentId, job.id ?? '', { steps: snapshot }),
          changed ? deps.store.append(data.incidentId, stepEntry(progress, data.pipeline)) : undefined,
        ]),
      )
      .catch((err: unknown) => deps.logger.warn('progress not recorded', { jobId: job.id, err }));
  };
  return { sink, steps: () => steps, settled: () => writes };
}

/** Errors steer the queue: bad input → UnrecoverableError (no retry), the rest retry with backoff. */
export function toQueueError(err: unknown, ctx: { deadlinePassed: boolean; jobTimeoutMs: number }): Error {
  if (ctx.deadlinePassed) return new Error(`job passed its ${Math.round(ctx.jobTimeoutMs / 1000)} s deadline [timeout]`, { cause: err });
  if (err instanceof UnrecoverableError) return err;
  if (isTriageError(err)) {
    // An abort here came from BullMQ (cancel, shutdown): another attempt should finish the work.
    if (err.retryable || err.code === 'E_ABORTED') return new Error(describeError(err), { cause: err });
    return new UnrecoverableError(describeError(err));
  }
  return err instanceof Error ? err : new Error(String(err));
}

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new UnrecoverableError(`invalid ${what}: ${issue ? `${issue.path.map(String).join('.')}: ${issue.message}` : 'invalid'} [bad-input]`);
}

function serverFor(deps: ProcessorDeps, name: string): NamedServer {
  const server = findServer(deps.registry, name);
  if (!server) throw new UnrecoverableError(`server "${name}" is not in this worker's registry [unknown-server]`);
  if (!server.host) throw new UnrecoverableError(`server "${name}" has no host in servers.yaml (servers.${name}.host): the worker serves only servers that name their GPU host [config]`);
  if (server.host !== deps.host) throw new UnrecoverableError(`server "${name}" belongs to host ${server.host}, not ${deps.host} [config]`);
  return server;
}

/** Replay targets are registered servers (or the server's registered clean target), never URLs from chat. */
function targetFor(registry: Registry, data: PipelineJobData): string | undefined {
  if (!data.target) return findServer(registry, data.server)?.replay?.url;
  try {
    return cleanTargetUrl(registry, data.target);
  } catch (err) {
    throw new UnrecoverableError(`${(err as Error).message} [${isTriageError(err) ? ERROR_CODES[err.code] : 'config'}]`);
  }
}

/** incident.json carries the Slack incident's id and createdAt; the pipeline appends its steps. */
async function prepareIncidentFolder(dir: string, data: PipelineJobData, server: NamedServer): Promise<void> {
  await openIncident(dir, () => ({ id: data.incidentId, server: server.name, serverUrl: server.url, ...(server.host ? { host: server.host } : {}), status: 'open', createdAt: data.createdAt, timeline: [] }));
}

async function markIncident(job: Job, deps: ProcessorDeps): Promise<{ marked: string }> {
  const data = parse(markJobSchema, job.data, 'mark job');
  const dir = path.resolve(deps.dataDir, data.incidentId);
  await patchIncident(dir, { status: data.status }, deps.pipelineDeps.now(), { step: 'mark resolved', state: 'done', detail: `by ${data.by} in Slack` });
  return { marked: data.status };
}
