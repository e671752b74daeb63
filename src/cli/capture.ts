import path from 'node:path';
import { TriageError } from '../errors.js';
import { formatCollectedAt } from '../evidence/bundle/capture.js';
import { captureStep } from '../pipelines/capture-step.js';
import { routeStep } from '../pipelines/route-step.js';
import { renderReportText } from '../../templates/report-text.js';
import { numberOption, parseCommandArgs } from './args.js';
import { EXIT, print, say, writeJson, type Subcommand } from './io.js';
import { detectInvocation } from '../config/invocation.js';
import { registryFrom, resolveTarget } from './target.js';

const USAGE = 'triage capture <server|url> [--out DIR] [--timeout S] [--health-timeout S] [--token T] [--servers FILE] [--json]';

/** Keep the scene: a read-only bundle from a live server, summarised and routed. */
export const captureCommand: Subcommand = async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      out: { type: 'string' },
      timeout: { type: 'string' },
      'health-timeout': { type: 'string' },
      token: { type: 'string' },
      servers: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    USAGE,
  );
  if (positionals.length !== 1) throw new TriageError('E_USAGE', `expected exactly one server name or URL\nusage: ${USAGE}`);
  const timeoutS = numberOption(values.timeout, 'timeout', USAGE, { min: 0.1, max: 3600 });
  const healthTimeoutS = numberOption(values['health-timeout'], 'health-timeout', USAGE, { min: 0.1, max: 3600 });
  const registry = await registryFrom(values.servers, ctx.env);
  const target = resolveTarget(positionals[0]!, registry);
  const now = new Date();
  const outDir = path.resolve(ctx.cwd, values.out ?? `triage-bundle-${formatCollectedAt(now)}`);

  say(ctx, `capturing ${target.name ? `${target.name} (${target.url})` : target.url} → ${outDir}`);
  const result = await captureStep({
    baseUrl: target.url,
    outDir,
    role: 'live',
    serverName: target.name,
    token: ctx.credentials.token(target, values.token),
    adminToken: target.name ? ctx.credentials.adminToken(target) : undefined,
    timeoutS,
    healthTimeoutS,
    signal: ctx.signal,
    now: () => new Date(),
    onEndpoint: (file, outcome, ms) => say(ctx, `  ${file.padEnd(32)} ${outcome.padEnd(10)} ${ms} ms`),
  });
  const routed = await routeStep(outDir, { registry, signal: ctx.signal, invocation: detectInvocation(ctx.childEnv ?? {}, ctx.cwd, values.servers) });

  if (values.json) {
    writeJson(ctx, { bundleDir: outDir, elapsedMs: result.capture.elapsedMs, summary: result.summary, report: routed.report });
  } else {
    // The report (summary + routed report) on stdout; the endpoint lines above were progress on stderr.
    print(ctx, `${result.summaryText}\n${renderReportText(routed.report, routed.reportJson)}`);
  }
  return EXIT.ok;
};
