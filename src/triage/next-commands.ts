import path from 'node:path';
import type { RouteContext } from './rule.js';

/**
 * Exact shell commands for the next step, filled in with this server's URL and paths.
 * Tokens are referenced as "$ENV_VAR", never written out.
 */

const DEFAULT_REQUEST_DUMP_DIR = '/tmp/sglang_request_dump';
const DEFAULT_CRASH_DUMP_DIR = '/tmp/sglang_crash_dump';

function q(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function serverRef(ctx: RouteContext): string {
  return ctx.server?.name ?? ctx.server?.url ?? '<server-url>';
}

function serverUrl(ctx: RouteContext): string {
  return ctx.server?.url ?? 'http://<host>:30000';
}

/** /configure_logging is ADMIN_OPTIONAL: the admin key when one is registered, else the normal key. */
function adminAuthHeader(ctx: RouteContext): string {
  const env = ctx.server?.adminTokenEnv ?? ctx.server?.tokenEnv;
  return env ? ` -H "Authorization: Bearer $${env}"` : '';
}

function replayTarget(ctx: RouteContext): string {
  return ctx.server?.replayTargetUrl ?? 'http://127.0.0.1:31000';
}

export function captureCommand(ctx: RouteContext, sub: string): string {
  return `triage capture ${q(serverRef(ctx))} --out ${q(path.join(ctx.incidentDir, sub))}`;
}

/** Turn on request dumps so the slow or hanging request is saved (read-only for serving). */
export function enableRequestDumpCommand(ctx: RouteContext): string {
  const folder = ctx.server?.requestDumpDir ?? DEFAULT_REQUEST_DUMP_DIR;
  const body = JSON.stringify({ dump_requests_folder: folder, dump_requests_threshold: 1 });
  return `curl -sS -X POST ${q(`${serverUrl(ctx)}/configure_logging`)}${adminAuthHeader(ctx)} -H 'Content-Type: application/json' -d ${q(body)}`;
}

export function copyDumpsCommand(ctx: RouteContext, kind: 'request' | 'crash'): string {
  const folder = kind === 'crash' ? (ctx.server?.crashDumpDir ?? DEFAULT_CRASH_DUMP_DIR) : (ctx.server?.requestDumpDir ?? DEFAULT_REQUEST_DUMP_DIR);
  const pattern = kind === 'crash' ? `${folder}/*/crash_dump_*.pkl` : `${folder}/*.pkl`;
  return `mkdir -p ${q(path.join(ctx.incidentDir, 'dumps'))} && cp ${pattern} ${q(path.join(ctx.incidentDir, 'dumps'))}/`;
}

export function replayCommand(ctx: RouteContext, extra = ''): string {
  return `triage replay ${q(path.join(ctx.incidentDir, 'dumps'))} --target ${q(replayTarget(ctx))}${extra ? ` ${extra}` : ''} --out ${q(ctx.incidentDir)}`;
}

export function routeCommand(ctx: RouteContext): string {
  return `triage route ${q(ctx.incidentDir)}`;
}

/** Start the clean replay target, when its launch command is registered. */
export function startCleanTargetCommand(ctx: RouteContext, env: Record<string, string> = {}): string | null {
  const launch = ctx.server?.replayLaunch;
  if (!launch) return null;
  const prefix = Object.entries(env)
    .map(([k, v]) => `${k}=${q(v)}`)
    .join(' ');
  return prefix ? `${prefix} ${launch}` : launch;
}

/** Keep the scene, save something replayable, replay it, route again: the method's first steps. */
export function saveAndReplaySteps(ctx: RouteContext, kind: 'request' | 'crash', targetEnv: Record<string, string> = {}): string[] {
  const steps: string[] = [];
  if (kind === 'request') steps.push(enableRequestDumpCommand(ctx));
  steps.push(copyDumpsCommand(ctx, kind));
  const start = startCleanTargetCommand(ctx, targetEnv);
  if (start) steps.push(start);
  steps.push(replayCommand(ctx, kind === 'request' ? '--parallel 1' : ''));
  steps.push(captureCommand(ctx, 'replay/bundle'));
  steps.push(routeCommand(ctx));
  return steps;
}

export function collectMoreCommands(ctx: RouteContext): string[] {
  return [captureCommand(ctx, 'baseline'), enableRequestDumpCommand(ctx), routeCommand(ctx)];
}
