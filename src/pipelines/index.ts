import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { resolveToken, type NamedServer } from '../config/servers.js';
import { readIncidentFile, writeIncidentFile } from '../incident/incident-file.js';
import { incidentPaths, newIncidentId, type IncidentPaths } from '../incident/layout.js';
import { adminTokenFor, captureStep, tokenFor } from './capture-step.js';
import { replayStep } from './replay-step.js';
import { collectDumps, collectHangEvidence, collectServerLog, inspectNewestCoredumps, summariseDumpsInto } from './host-evidence.js';
import { routeStep } from './route-step.js';
import { runStep, updateIncident } from './steps.js';
import type { PipelineDeps, PipelineRequest, PipelineResult, ProgressSink } from './types.js';

export type { PipelineDeps, PipelineRequest, PipelineResult, ProgressSink } from './types.js';

const MINUTE = 60_000;
const DEFAULT_COREDUMP_DIR = '/tmp/sglang_cuda_coredumps';

type StepCtx = { incidentDir: string; deps: PipelineDeps; signal: AbortSignal; onProgress: ProgressSink };

/**
 * The one pipeline runner: the CLI calls it in-process, the worker calls it inside a BullMQ job.
 * Each step writes evidence into the incident folder; the folder is routed at the end.
 *
 *   capture  baseline (or live) bundle → route
 *   auto     bundle → server log → crash dumps → dump summary → CUDA coredumps → route   (read-only)
 *   crash    the same as auto, crash-dump first
 *   slow     bundle → request dumps → dump summary → route
 *   hang     bundle → server log → per-rank coredump, stacks, cuda-gdb attach, nvidia-smi → route  (intrusive)
 *   replay   (dumps from the host if the folder has none) → replay on the clean target → route  (intrusive)
 *   route    route only
 */
export async function runPipeline(req: PipelineRequest, deps: PipelineDeps, signal: AbortSignal, onProgress: ProgressSink): Promise<PipelineResult> {
  const paths = incidentPaths(req.incidentDir);
  await ensureIncident(req, deps);
  const ctx: StepCtx = { incidentDir: paths.root, deps, signal, onProgress };
  const files: string[] = [];
  let bundleSummary: string | null = null;
  await updateIncident(paths.root, { status: 'running' }, deps);

  try {
    // Evidence steps are best effort: a failed or late step is on the timeline, and the folder is still
    // routed with whatever was collected. Only the caller's own abort stops the pipeline.
    const tolerate = async (step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (err) {
        if (signal.aborted) throw err;
        deps.logger.warn('pipeline step failed; routing what was collected', { incidentDir: paths.root, err: (err as Error).message });
      }
    };
    if (req.pipeline !== 'route' && req.pipeline !== 'replay') {
      await tolerate(async () => {
        const captured = await captureBundleStep(req, paths, ctx);
        bundleSummary = captured.summaryText;
        files.push(captured.file);
      });
    }
    if (req.pipeline === 'auto' || req.pipeline === 'crash' || req.pipeline === 'hang') await tolerate(() => hostLogAndDumps(req, paths, ctx, 'crash'));
    if (req.pipeline === 'slow') await tolerate(() => hostLogAndDumps(req, paths, ctx, 'request'));
    if (req.pipeline === 'replay' && !(await hasDumps(paths))) await tolerate(() => hostLogAndDumps(req, paths, ctx, 'crash'));
    if (req.pipeline === 'slow' || req.pipeline === 'crash' || req.pipeline === 'hang' || req.pipeline === 'replay') await tolerate(() => replayOnCleanTarget(req, paths, ctx));
    if (req.pipeline === 'auto' || req.pipeline === 'crash') await tolerate(() => coredumpStep(req, paths, ctx));
    if (req.pipeline === 'hang') await tolerate(() => hangStep(paths, ctx, registered(req)));

    const routed = await runStep('route', ctx, 5 * MINUTE, (s) => routeStep(paths.root, { registry: deps.registry, signal: s, ...(deps.invocation ? { invocation: deps.invocation } : {}) }), (r) => `${r.report.problemClass} → ${r.report.nextStep.skill}`);
    files.push(routed.reportJson, routed.reportMd);
    await updateIncident(paths.root, { status: 'routed', problemClass: routed.report.problemClass, nextSkill: routed.report.nextStep.skill }, deps);
    return { incidentDir: paths.root, report: routed.report, bundleSummary, files };
  } catch (err) {
    await updateIncident(paths.root, { status: 'failed' }, deps);
    throw err;
  }
}

async function captureBundleStep(req: PipelineRequest, paths: IncidentPaths, ctx: StepCtx) {
  const role = existsSync(path.join(paths.baseline, 'metadata.json')) ? 'live' : 'baseline';
  const outDir = role === 'baseline' ? paths.baseline : path.join(paths.root, `live-${stamp(ctx.deps.now())}`);
  const captured = await runStep(
    `capture ${role} bundle`,
    ctx,
    2 * MINUTE,
    (s) =>
      captureStep({
        baseUrl: req.server.url,
        outDir,
        role,
        serverName: req.server.name,
        token: tokenFor(req.server, ctx.deps.env),
        adminToken: adminTokenFor(registered(req) ?? {}, ctx.deps.env),
        timeoutS: req.timeoutS,
        dispatcher: ctx.deps.dispatcher,
        signal: s,
        now: ctx.deps.now,
      }),
    (r) => `${r.capture.endpoints.filter((e) => e.outcome.kind === 'ok').length}/${r.capture.endpoints.length} endpoints ok in ${(r.capture.elapsedMs / 1000).toFixed(1)} s; ${r.summary.signals.length} signals`,
  );
  return { summaryText: captured.summaryText, file: path.join(outDir, 'SUMMARY.txt') };
}

/** Server log tail and the dumps it names (or the newest in the registered folder), then their summary. */
async function hostLogAndDumps(req: PipelineRequest, paths: IncidentPaths, ctx: StepCtx, kind: 'crash' | 'request') {
  const server = registered(req);
  const log = await runStep('copy server log', ctx, MINUTE, () => collectServerLog(server?.logFile, paths), (r) => (r.file ? `${path.basename(r.file)}; ${r.crashDumpsNamed.length} crash dump(s) named` : 'no log file registered'));
  const folder = kind === 'crash' ? server?.crashDumpDir : server?.requestDumpDir;
  await runStep(`collect ${kind} dumps`, ctx, 5 * MINUTE, () => collectDumps({ named: kind === 'crash' ? log.crashDumpsNamed : [], folder, kind, paths }), (r) => `${r.length} file(s)`);
  await runStep('summarise dumps', ctx, 5 * MINUTE, (s) => summariseDumpsInto(paths, s), (r) => (r ? `${r.requests} requests, ${r.unfinished} unfinished` : 'no dumps'));
}

/**
 * Replay the saved dumps on the registered clean target (never on the production server). Starting that
 * target is left to people: its launch command is in the report when it is not answering.
 */
async function replayOnCleanTarget(req: PipelineRequest, paths: IncidentPaths, ctx: StepCtx) {
  const replay = registered(req)?.replay;
  const target = req.target ?? replay?.url;
  if (!target) {
    await runStep('replay on a clean target', ctx, MINUTE, async () => null, () => 'skipped: no clean replay target registered for this server (servers.yaml replay.url)');
    return;
  }
  const token = resolveToken(replay?.tokenEnv, ctx.deps.env);
  await runStep(
    'replay on a clean target',
    ctx,
    (req.pipeline === 'hang' ? 3 : 15) * MINUTE,
    (s) =>
      replayStep({
        paths,
        target,
        ...(token ? { token } : {}),
        parallel: req.pipeline === 'slow' ? 1 : 64,
        // A hang must surface as a finding within the step, not as a step timeout.
        timeoutS: req.pipeline === 'hang' ? 60 : 300,
        signal: s,
        now: ctx.deps.now,
        ...(ctx.deps.dispatcher ? { dispatcher: ctx.deps.dispatcher } : {}),
      }),
    (r) => (r.kind === 'no-dumps' ? 'skipped: no dumps to replay' : `${r.requests} request(s) replayed on ${target}; reproduced: ${String(r.reproduced)}`),
  );
}

async function coredumpStep(req: PipelineRequest, paths: IncidentPaths, ctx: StepCtx) {
  const dir = registered(req)?.coredumpDir ?? DEFAULT_COREDUMP_DIR;
  await runStep('cuda-gdb on CUDA coredumps', ctx, 8 * MINUTE, (s) => inspectNewestCoredumps(dir, paths, s, ctx.deps.toolEnv), (r) => (r.length ? r.map((o) => o.kind).join(', ') : `no coredumps in ${dir}`));
}

async function hangStep(paths: IncidentPaths, ctx: StepCtx, server: NamedServer | undefined) {
  await runStep(
    'per-rank coredump, stacks and GPU state',
    ctx,
    10 * MINUTE,
    (s) =>
      collectHangEvidence(paths, s, {
        ...(ctx.deps.toolEnv ? { env: ctx.deps.toolEnv } : {}),
        ...(server?.schedulerProcessPattern ? { pattern: server.schedulerProcessPattern } : {}),
        mode: server?.hangEvidence ?? 'attach',
      }),
    (r) =>
      `${r.pids.length} scheduler process(es); py-spy ${r.ranks.map((x) => x.pySpy.kind).join('/') || 'n/a'}; ` +
      (r.mode === 'attach'
        ? `cuda-gdb attach ${r.ranks.map((x) => x.cudaGdb.kind).join('/') || 'n/a'}`
        : `coredumps ${r.ranks.map((x) => x.coredump.kind).join('/') || 'n/a'}, cuda-gdb on ${r.cores.length} core(s)`) +
      `; nvidia-smi ${r.gpu.gpus.kind}`,
  );
}

async function ensureIncident(req: PipelineRequest, deps: PipelineDeps): Promise<void> {
  const paths = incidentPaths(req.incidentDir);
  await mkdir(paths.root, { recursive: true });
  if (await readIncidentFile(paths.root)) return;
  const base = path.basename(paths.root);
  await writeIncidentFile(paths.root, {
    id: base.startsWith('inc-') ? base : newIncidentId(req.server.name ?? 'adhoc', deps.now()),
    server: req.server.name ?? req.server.url,
    serverUrl: req.server.url,
    ...(req.server.host ? { host: req.server.host } : {}),
    status: 'open',
    createdAt: deps.now().toISOString(),
    timeline: [],
  });
}

async function hasDumps(paths: IncidentPaths): Promise<boolean> {
  return (await readdir(paths.dumps).catch(() => [] as string[])).some((f) => f.endsWith('.pkl'));
}

/** The registry entry when the request names a registered server (an ad-hoc URL has no host paths). */
function registered(req: PipelineRequest): NamedServer | undefined {
  return req.server.name !== undefined ? req.server : undefined;
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}
