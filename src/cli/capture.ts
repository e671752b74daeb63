import path from 'node:path';
import { TriageError } from '../errors.js';
import { formatCollectedAt } from '../evidence/bundle/capture.js';
import { captureStep } from '../pipelines/capture-step.js';
import { routeStep } from '../pipelines/route-step.js';
import { resolveCaptureTimeouts } from '../sglang/endpoints.js';
import { redactText } from '../sglang/redact.js';
import { renderReportText } from '../../templates/report-text.js';
import { numberOption, parseCommandArgs } from './args.js';
import { EXIT, print, say, writeJson, type Subcommand } from './io.js';
import { detectInvocation } from '../config/invocation.js';
import { registryFrom, resolveTarget } from './target.js';

const USAGE = 'triage capture <server|url> [--out DIR] [--timeout S] [--health-timeout S] [--window S] [--token T] [--servers FILE] [--json]';

/** Keep the scene: a read-only bundle from a live server, summarised and routed. */
export const captureCommand: Subcommand = async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      out: { type: 'string' },
      timeout: { type: 'string' },
      'health-timeout': { type: 'string' },
      window: { type: 'string' },
      token: { type: 'string' },
      servers: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    USAGE,
  );
  if (positionals.length !== 1) throw new TriageError('E_USAGE', `expected exactly one server name or URL\nusage: ${USAGE}`);
  // --timeout alone bounds every endpoint, the health probes included; with neither flag, 10 s and 25 s.
  const explicitTimeout = numberOption(values.timeout, 'timeout', USAGE, { min: 0.1, max: 3600 });
  const explicitHealth = numberOption(values['health-timeout'], 'health-timeout', USAGE, { min: 0.1, max: 3600 });
  const { timeoutS, healthTimeoutS } = resolveCaptureTimeouts({ timeoutS: explicitTimeout, healthTimeoutS: explicitHealth });
  const windowS = numberOption(values.window, 'window', USAGE, { min: 1, max: 3600 });
  const registry = await registryFrom(values.servers, ctx.env);
  const target = resolveTarget(positionals[0]!, registry);
  const now = new Date();
  const outDir = path.resolve(ctx.cwd, values.out ?? `triage-bundle-${formatCollectedAt(now)}`);

  // A URL may carry user:password@: never printed.
  say(ctx, redactText(`capturing ${target.name ? `${target.name} (${target.url})` : target.url} → ${outDir}${windowS ? ` (second /metrics scrape after ${windowS} s)` : ''}`));
  const result = await captureStep({
    baseUrl: target.url,
    outDir,
    role: 'live',
    serverName: target.name,
    token: ctx.credentials.token(target, values.token),
    adminToken: target.name ? ctx.credentials.adminToken(target) : undefined,
    timeoutS,
    healthTimeoutS,
    ...(windowS ? { windowS } : {}),
    signal: ctx.signal,
    now: () => new Date(),
    onEndpoint: (file, outcome, ms) => say(ctx, `  ${file.padEnd(32)} ${outcome.padEnd(10)} ${ms} ms`),
  });
  const routed = await routeStep(outDir, { registry, signal: ctx.signal, invocation: detectInvocation(ctx.childEnv ?? {}, ctx.cwd, values.servers) });

  if (values.json) {
    writeJson(ctx, { bundleDir: outDir, elapsedMs: result.capture.elapsedMs, summary: result.summary, report: routed.report });
  } else {
    // The report (summary + routed report) on stdout; the endpoint lines above were progress on stderr.
    print(ctx, redactText(`${result.summaryText}\n${renderReportText(routed.report, routed.reportJson)}`));
  }
  return EXIT.ok;
};
