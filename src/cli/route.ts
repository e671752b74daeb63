import path from 'node:path';
import { TriageError } from '../errors.js';
import { routeStep } from '../pipelines/route-step.js';
import { renderReportText } from '../../templates/report-text.js';
import { parseCommandArgs } from './args.js';
import { EXIT, print, writeJson, type Subcommand } from './io.js';
import { detectInvocation } from '../config/invocation.js';
import { registryFrom } from './target.js';

const USAGE = 'triage route <incident-dir|bundle-dir> [--servers FILE] [--no-write] [--json]';

/** Classify whatever evidence a folder holds and write report.json / report.md into it. The report goes to stdout. */
export const routeCommand: Subcommand = async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(
    argv,
    { servers: { type: 'string' }, json: { type: 'boolean', default: false }, 'no-write': { type: 'boolean', default: false } },
    USAGE,
  );
  if (positionals.length !== 1) throw new TriageError('E_USAGE', `expected one folder, got ${positionals.length}\nusage: ${USAGE}`);
  const dir = path.resolve(ctx.cwd, positionals[0]!);
  const registry = await registryFrom(values.servers, ctx.env);
  const routed = await routeStep(dir, { registry, signal: ctx.signal, write: !values['no-write'], invocation: detectInvocation(ctx.childEnv ?? {}, ctx.cwd, values.servers) });
  if (values.json) writeJson(ctx, routed.report);
  else print(ctx, renderReportText(routed.report, values['no-write'] ? undefined : routed.reportJson));
  return EXIT.ok;
};
