import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { readIncidentFile, writeIncidentFile } from '../incident/incident-file.js';
import { incidentPaths, newIncidentId } from '../incident/layout.js';
import { captureStep, tokenFor } from './capture-step.js';
import { routeStep } from './route-step.js';
import { runStep, updateIncident } from './steps.js';
import type { PipelineDeps, PipelineRequest, PipelineResult, ProgressSink } from './types.js';

export type { PipelineDeps, PipelineRequest, PipelineResult, ProgressSink } from './types.js';

const CAPTURE_STEP_DEADLINE_MS = 120_000;
const ROUTE_STEP_DEADLINE_MS = 300_000;

/**
 * The one pipeline runner: the CLI calls it in-process, the worker calls it inside a BullMQ job.
 * Each step writes evidence into the incident folder, then the folder is routed.
 */
export async function runPipeline(req: PipelineRequest, deps: PipelineDeps, signal: AbortSignal, onProgress: ProgressSink): Promise<PipelineResult> {
  const paths = incidentPaths(req.incidentDir);
  await ensureIncident(req, deps);
  const ctx = { incidentDir: paths.root, deps, signal, onProgress };
  const files: string[] = [];
  let bundleSummary: string | null = null;
  await updateIncident(paths.root, { status: 'running' }, deps);

  try {
    if (req.pipeline !== 'route') {
      const role = existsSync(path.join(paths.baseline, 'metadata.json')) ? 'live' : 'baseline';
      const outDir = role === 'baseline' ? paths.baseline : path.join(paths.root, `live-${stamp(deps.now())}`);
      const captured = await runStep(
        `capture ${role} bundle`,
        ctx,
        CAPTURE_STEP_DEADLINE_MS,
        (s) =>
          captureStep({
            baseUrl: req.server.url,
            outDir,
            role,
            serverName: req.server.name,
            token: tokenFor(req.server, deps.env),
            timeoutS: req.timeoutS,
            dispatcher: deps.dispatcher,
            signal: s,
            now: deps.now,
          }),
        (r) => `${r.capture.endpoints.filter((e) => e.outcome.kind === 'ok').length}/${r.capture.endpoints.length} endpoints ok in ${(r.capture.elapsedMs / 1000).toFixed(1)} s; ${r.summary.signals.length} signals`,
      );
      bundleSummary = captured.summaryText;
      files.push(path.join(outDir, 'SUMMARY.txt'));
    }
    const routed = await runStep('route', ctx, ROUTE_STEP_DEADLINE_MS, (s) => routeStep(paths.root, { registry: deps.registry, signal: s }), (r) => `${r.report.problemClass} → ${r.report.nextStep.skill}`);
    files.push(routed.reportJson, routed.reportMd);
    await updateIncident(paths.root, { status: 'routed', problemClass: routed.report.problemClass, nextSkill: routed.report.nextStep.skill }, deps);
    return { incidentDir: paths.root, report: routed.report, bundleSummary, files };
  } catch (err) {
    await updateIncident(paths.root, { status: 'failed' }, deps);
    throw err;
  }
}

async function ensureIncident(req: PipelineRequest, deps: PipelineDeps): Promise<void> {
  const paths = incidentPaths(req.incidentDir);
  await mkdir(paths.root, { recursive: true });
  if (await readIncidentFile(paths.root)) return;
  const serverLabel = req.server.name ?? req.server.url;
  await writeIncidentFile(paths.root, {
    id: path.basename(paths.root).startsWith('inc-') ? path.basename(paths.root) : newIncidentId(req.server.name ?? 'adhoc', deps.now()),
    server: serverLabel,
    serverUrl: req.server.url,
    ...(req.server.host ? { host: req.server.host } : {}),
    status: 'open',
    createdAt: deps.now().toISOString(),
    timeline: [],
  });
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}
