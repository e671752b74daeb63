import path from 'node:path';
import { REDACTED } from '../sglang/redact.js';
import type { RouteContext } from './rule.js';
import { and, annotate, command, commentLine, fixedNote, glob, interpolated, note, parseSimpleCommand, pathArg, shellVar, type Note, type Where, type Word } from './shell.js';

/**
 * Exact shell commands for the next step, filled in with this server's URL and paths. Every value is
 * quoted by src/triage/shell.ts; tokens are referenced as "$ENV_VAR", never written out. Pure.
 */

const DEFAULT_REQUEST_DUMP_DIR = '/tmp/sglang_request_dump';
const DEFAULT_CRASH_DUMP_DIR = '/tmp/sglang_crash_dump';
const DEFAULT_REPLAY_TARGET = 'http://127.0.0.1:31000';
const DEFAULT_SCHEDULER_PATTERN = '^sglang::scheduler';

/**
 * SGLang writes a request dump when `dump_requests_threshold` requests have finished, into a file named
 * by the second (`%Y-%m-%d_%H-%M-%S.pkl`, managers/tokenizer_manager.py dump_requests): with a threshold
 * of 1, every request finishing in the same second overwrites the one before. With 100, a file is lost
 * only when more than 100 requests finish within one second; the last <100 stay in memory until the
 * next file, so wait for the server log line "Dump N requests to …" that names the slow request's file.
 */
export const REQUEST_DUMP_THRESHOLD = 100;

export function triageWords(ctx: RouteContext): readonly string[] {
  return ctx.invocation?.triage ?? ['triage'];
}

/** `triage <sub> ...args [--servers FILE]`, the way the entry that routed was started. */
export function triageCommand(ctx: RouteContext, sub: string, args: readonly Word[], opts: { servers?: boolean } = {}): string {
  const servers = opts.servers !== false && ctx.invocation?.serversFile ? ['--servers', pathArg(ctx.invocation.serversFile)] : [];
  return command([...triageWords(ctx), sub, ...args, ...servers]);
}

function serverRef(ctx: RouteContext): string {
  return ctx.server?.name ?? ctx.server?.url ?? 'http://127.0.0.1:30000';
}

function serverUrl(ctx: RouteContext): string {
  return (ctx.server?.url ?? 'http://127.0.0.1:30000').replace(/\/+$/, '');
}

export function replayTargetUrl(ctx: RouteContext): string {
  return (ctx.server?.replayTargetUrl ?? DEFAULT_REPLAY_TARGET).replace(/\/+$/, '');
}

export function schedulerPattern(ctx: RouteContext): string {
  return ctx.server?.schedulerProcessPattern ?? DEFAULT_SCHEDULER_PATTERN;
}

/** `-H "Authorization: Bearer $ENV"` for an ADMIN_OPTIONAL route: the admin key when registered, else the normal key (utils/auth.py). */
export function adminAuthArgs(env: string | undefined): Word[] {
  return env ? ['-H', interpolated('Authorization: Bearer ', shellVar(env))] : [];
}

/** POST a JSON body: the value is JSON-escaped first, then shell-quoted as one word. */
export function curlPostJson(url: string, body: unknown, authEnv?: string): string {
  return command(['curl', '-sS', '-X', 'POST', url, ...adminAuthArgs(authEnv), '-H', 'Content-Type: application/json', '-d', JSON.stringify(body)]);
}

export function curlPost(url: string, authEnv?: string): string {
  return command(['curl', '-sS', '-X', 'POST', url, ...adminAuthArgs(authEnv)]);
}

/** A read-only bundle. Of production unless `of` says the clean replay target (by its URL). */
export function captureCommand(ctx: RouteContext, sub: string, of: 'production' | { url: string } = 'production'): string {
  const out = path.join(ctx.incidentDir, sub);
  if (of === 'production') return annotate(triageCommand(ctx, 'capture', [serverRef(ctx), '--out', pathArg(out)]), { where: 'production' });
  return triageCommand(ctx, 'capture', [of.url, '--out', pathArg(out)], { servers: false });
}

function requestDumpDir(ctx: RouteContext): string {
  return ctx.server?.requestDumpDir ?? DEFAULT_REQUEST_DUMP_DIR;
}

/** Turn on request dumps so the slow or hanging request is saved (read-only for serving). */
export function enableRequestDumpCommand(ctx: RouteContext): string {
  const body = { dump_requests_folder: requestDumpDir(ctx), dump_requests_threshold: REQUEST_DUMP_THRESHOLD };
  return annotate(curlPostJson(`${serverUrl(ctx)}/configure_logging`, body, ctx.server?.adminTokenEnv ?? ctx.server?.tokenEnv), {
    note: note`a .pkl per ${REQUEST_DUMP_THRESHOLD} finished requests, named by the second; wait for the log line "Dump N requests to"`,
    where: 'production',
  });
}

/** Request dumps off again once the files are copied (an empty folder stops dump_requests). */
export function disableRequestDumpCommand(ctx: RouteContext): string {
  return annotate(curlPostJson(`${serverUrl(ctx)}/configure_logging`, { dump_requests_folder: '' }, ctx.server?.adminTokenEnv ?? ctx.server?.tokenEnv), { where: 'production' });
}

/** mkdir the incident's dumps/ and copy the server's dumps in: the folder quoted, the glob ours. */
export function copyDumpsCommand(ctx: RouteContext, kind: 'request' | 'crash', file?: string): string {
  const dumps = path.join(ctx.incidentDir, 'dumps');
  const source: Word = file
    ? pathArg(file)
    : kind === 'crash'
      ? glob(ctx.server?.crashDumpDir ?? DEFAULT_CRASH_DUMP_DIR, '*/crash_dump_*.pkl')
      : glob(requestDumpDir(ctx), '*.pkl');
  return annotate(and(command(['mkdir', '-p', pathArg(dumps)]), command(['cp', source, `${pathArg(dumps)}/`])), { where: 'gpu-host' });
}

/** Replay the saved dumps on the clean target: by server name when it has one registered (its token resolves), else by URL. */
export function replayCommand(ctx: RouteContext, flags: readonly string[] = []): string {
  const byName = ctx.server?.name && ctx.server.replayTargetUrl && ctx.invocation?.serversFile;
  const target = byName ? ctx.server!.name! : replayTargetUrl(ctx);
  return triageCommand(ctx, 'replay', [pathArg(path.join(ctx.incidentDir, 'dumps')), '--target', target, ...flags, '--out', pathArg(ctx.incidentDir)], { servers: Boolean(byName) });
}

export function routeCommand(ctx: RouteContext): string {
  return triageCommand(ctx, 'route', [pathArg(ctx.incidentDir)]);
}

export function dumpSummaryCommand(ctx: RouteContext, folder: string): string {
  return annotate(triageCommand(ctx, 'dump', [pathArg(folder)], { servers: false }), { where: 'gpu-host' });
}

/**
 * Start the clean replay target with extra env and flags. A registered launch that is one simple
 * command is rebuilt word by word; any other launch runs untouched under `sh -c`, the extra flags
 * passed through "$@". Null when no launch is registered.
 */
export function startCleanTargetCommand(ctx: RouteContext, env: Readonly<Record<string, string>> = {}, flags: readonly string[] = [], prefix: readonly Word[] = []): string | null {
  const registered = ctx.server?.replayLaunch;
  if (!registered) return null;
  // A secret redacted out of the launch is asked for at run time, never printed: `${LAUNCH_SECRET:?…}` fails clearly when unset.
  const launch = registered.replaceAll(REDACTED, `"\${${LAUNCH_SECRET_VAR}:?set ${LAUNCH_SECRET_VAR} to the secret servers.yaml replay.launch holds}"`);
  const simple = parseSimpleCommand(launch);
  if (simple) return command([...prefix, ...simple.argv, ...flags], { env: { ...simple.env, ...env } });
  return command([...prefix, 'sh', '-c', `${launch} "$@"`, 'launch', ...flags], { env });
}

/** The env var a printed launch asks for in place of a secret that redaction took out of it. */
export const LAUNCH_SECRET_VAR = 'LAUNCH_SECRET';

/** Is this printed line a start of the clean target (the registered launch, with or without our env and tags)? */
export function isCleanTargetStart(ctx: RouteContext, line: string): boolean {
  const bare = startCleanTargetCommand(ctx);
  if (!bare || line.startsWith('#')) return false;
  const withoutEnv = (l: string) => l.replace(/^(?:[A-Za-z_][A-Za-z0-9_]*=(?:'[^']*'|[^\s'])*\s+)*/, '');
  return withoutEnv(line.replace(/ {2}# .*$/, '')) === withoutEnv(bare);
}

/**
 * How to start the clean target: the registered launch, or (none registered) the environment to export
 * in the shell that then starts it with production's model and flags.
 */
export function cleanTargetSteps(ctx: RouteContext, env: Readonly<Record<string, string>> = {}, flags: readonly string[] = [], why?: Note): string[] {
  const start = startCleanTargetCommand(ctx, env, flags);
  if (start) return [annotate(start, { where: 'gpu-host', ...(why ? { note: why } : {}) })];
  const steps: string[] = [];
  const assignments = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  if (assignments.length) steps.push(annotate(command(['export', ...assignments]), { where: 'gpu-host' }));
  steps.push(commentLine(fixedNote('no replay.launch registered: start the clean target in this shell with the production model and flags')));
  if (flags.length) steps.push(commentLine(fixedNote(`and these flags: ${flags.join(' ')}`)));
  if (why) steps.push(commentLine(why));
  return steps;
}

/** Keep the scene, save something replayable, replay it, route again: the method's first steps. */
export function saveAndReplaySteps(ctx: RouteContext, kind: 'request' | 'crash', targetEnv: Readonly<Record<string, string>> = {}, opts: { crashDumpPath?: string; replayFlags?: readonly string[] } = {}): string[] {
  const steps: string[] = [];
  if (kind === 'request') steps.push(enableRequestDumpCommand(ctx));
  steps.push(copyDumpsCommand(ctx, kind, opts.crashDumpPath));
  if (kind === 'request') steps.push(disableRequestDumpCommand(ctx));
  steps.push(...cleanTargetSteps(ctx, targetEnv));
  steps.push(replayCommand(ctx, opts.replayFlags ?? (kind === 'request' ? ['--parallel', '1'] : [])));
  steps.push(captureCommand(ctx, 'replay/bundle', { url: replayTargetUrl(ctx) }));
  steps.push(routeCommand(ctx));
  return steps;
}

export function collectMoreCommands(ctx: RouteContext): string[] {
  return [captureCommand(ctx, 'baseline'), enableRequestDumpCommand(ctx), routeCommand(ctx)];
}

export type { Where };
