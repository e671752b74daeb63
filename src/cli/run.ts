import path from 'node:path';
import { TriageError } from '../errors.js';
import { newIncidentId } from '../incident/layout.js';
import { runPipeline } from '../pipelines/index.js';
import type { Logger, PipelineName } from '../pipelines/types.js';
import { renderReportText } from '../../templates/report-text.js';
import { numberOption, parseCommandArgs } from './args.js';
import { EXIT, say, writeJson, type Subcommand } from './io.js';
import { detectInvocation } from './invocation.js';
import { registryFrom, resolveTarget } from './target.js';

const USAGE = 'triage run <auto|slow|crash|hang|replay> <server|url> [--out DIR] [--timeout S] [--servers FILE] [--json]';
const PIPELINES = new Set(['auto', 'slow', 'crash', 'hang', 'replay']);

/** A whole pipeline, locally, with no Slack and no Redis: the embedded default. */
export const runCommand: Subcommand = async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(
    argv,
    { out: { type: 'string' }, timeout: { type: 'string' }, servers: { type: 'string' }, json: { type: 'boolean', default: false } },
    USAGE,
  );
  const [pipeline, serverArg] = positionals;
  if (!pipeline || !serverArg || positionals.length !== 2 || !PIPELINES.has(pipeline)) {
    throw new TriageError('E_USAGE', `expected a pipeline (auto, slow, crash, hang, replay) and a server\nusage: ${USAGE}`);
  }
  const registry = await registryFrom(values.servers, ctx.env);
  const server = resolveTarget(serverArg, registry);
  const incidentDir = path.resolve(ctx.cwd, values.out ?? path.join(ctx.env.TRIAGE_DATA_DIR ?? 'incidents', newIncidentId(server.name ?? 'adhoc', new Date())));
  say(ctx, `incident folder: ${incidentDir}`);
  const result = await runPipeline(
    { pipeline: pipeline as PipelineName, server, incidentDir, timeoutS: numberOption(values.timeout, 'timeout', USAGE, { min: 0.1, max: 3600 }) },
    { registry, env: ctx.env, now: () => new Date(), logger: stderrLogger(ctx.stderr), invocation: detectInvocation(ctx.env, ctx.cwd, values.servers) },
    ctx.signal,
    (p) => say(ctx, `[${p.state}] ${p.step}${p.detail ? `: ${p.detail}` : ''}`),
  );
  if (values.json) writeJson(ctx, { incidentDir: result.incidentDir, report: result.report, files: result.files });
  else if (result.report) ctx.stderr.write(renderReportText(result.report, path.join(result.incidentDir, 'report.json')));
  return EXIT.ok;
};

function stderrLogger(stream: NodeJS.WritableStream): Logger {
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => stream.write(`${level}: ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`);
  return { debug: () => undefined, info: log('info'), warn: log('warn'), error: log('error') };
}
