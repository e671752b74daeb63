import path from 'node:path';
import { TriageError } from '../errors.js';
import { newIncidentId } from '../incident/layout.js';
import { PIPELINE_INFO, RUNNABLE_PIPELINES, isPipelineName, type PipelineName } from '../pipelines/catalog.js';
import { runPipeline } from '../pipelines/index.js';
import type { Logger, PipelineRequest } from '../pipelines/types.js';
import { renderReportText } from '../../templates/report-text.js';
import { numberOption, parseCommandArgs } from './args.js';
import { EXIT, say, writeJson, type Subcommand } from './io.js';
import { detectInvocation } from '../config/invocation.js';
import { registryFrom, resolveTarget } from './target.js';

const USAGE = `triage run <${RUNNABLE_PIPELINES.join('|')}> <server|url> [--out DIR] [--timeout S] [--good REF --bad REF [--run] [--repo DIR]] [--compare-production] [--servers FILE] [--json]`;

/** The pipelines `triage run` offers, one line each, from the catalog. */
export const RUN_HELP = RUNNABLE_PIPELINES.map((p) => `  ${p.padEnd(13)} ${PIPELINE_INFO[p].summary}${PIPELINE_INFO[p].intrusive ? ' (intrusive)' : ''}`).join('\n');

/** A whole pipeline, locally, with no Slack and no Redis: the embedded default. */
export const runCommand: Subcommand = async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      out: { type: 'string' },
      timeout: { type: 'string' },
      servers: { type: 'string' },
      good: { type: 'string' },
      bad: { type: 'string' },
      run: { type: 'boolean', default: false },
      repo: { type: 'string' },
      'compare-production': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    USAGE,
  );
  const [pipeline, serverArg] = positionals;
  if (!pipeline || !serverArg || positionals.length !== 2 || !isPipelineName(pipeline) || !RUNNABLE_PIPELINES.includes(pipeline)) {
    throw new TriageError('E_USAGE', `expected a pipeline and a server\nusage: ${USAGE}\n\npipelines:\n${RUN_HELP}`);
  }
  const name: PipelineName = pipeline;
  if (name === 'regression' && (!values.good || !values.bad)) throw new TriageError('E_USAGE', `regression needs --good REF and --bad REF (git revisions)\nusage: ${USAGE}`);
  if (name !== 'regression' && (values.good || values.bad || values.run || values.repo)) throw new TriageError('E_USAGE', `--good, --bad, --run and --repo belong to the regression pipeline\nusage: ${USAGE}`);
  if (values['compare-production'] && name !== 'wrong-output') throw new TriageError('E_USAGE', `--compare-production belongs to the wrong-output pipeline\nusage: ${USAGE}`);

  const registry = await registryFrom(values.servers, ctx.env);
  const server = resolveTarget(serverArg, registry);
  const incidentDir = path.resolve(ctx.cwd, values.out ?? path.join(ctx.env.TRIAGE_DATA_DIR ?? 'incidents', newIncidentId(server.name ?? 'adhoc', new Date())));
  const timeoutS = numberOption(values.timeout, 'timeout', USAGE, { min: 0.1, max: 3600 });
  say(ctx, `incident folder: ${incidentDir}`);
  const req: PipelineRequest = {
    pipeline: name,
    server,
    incidentDir,
    ...(timeoutS !== undefined ? { timeoutS } : {}),
    ...(name === 'regression' ? { regression: { good: values.good!, bad: values.bad!, run: Boolean(values.run), ...(values.repo ? { repo: path.resolve(ctx.cwd, values.repo) } : {}) } } : {}),
    ...(values['compare-production'] ? { compareProduction: true } : {}),
  };
  let lastTick = 0;
  const result = await runPipeline(req, { registry, env: ctx.credentials.envFor(registry), ...(ctx.childEnv ? { toolEnv: ctx.childEnv } : {}), now: () => new Date(), logger: stderrLogger(ctx.stderr), selfCommand: selfCommand(), invocation: detectInvocation(ctx.childEnv ?? {}, ctx.cwd, values.servers) }, ctx.signal, (p) => {
    if (p.counters || (p.state === 'started' && p.detail)) {
      // Live counters of a long step: at most one line every 2 s.
      if (Date.now() - lastTick < 2000) return;
      lastTick = Date.now();
      say(ctx, `  … ${p.step}: ${p.detail ?? ''}`);
      return;
    }
    say(ctx, `[${p.state}] ${p.step}${p.detail ? `: ${p.detail}` : ''}`);
  });
  if (values.json) writeJson(ctx, { incidentDir: result.incidentDir, report: result.report, files: result.files });
  else if (result.report) ctx.stdout.write(renderReportText(result.report, path.join(result.incidentDir, 'report.json')));
  return EXIT.ok;
};

function stderrLogger(stream: NodeJS.WritableStream): Logger {
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => stream.write(`${level}: ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`);
  return { debug: () => undefined, info: log('info'), warn: log('warn'), error: log('error') };
}

/** How the bisect harness calls this same triage back: this Node and this entry file. */
function selfCommand(): string[] {
  return process.argv[1] ? [process.execPath, path.resolve(process.argv[1])] : ['triage'];
}
