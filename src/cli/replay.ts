/**
 * `triage replay <dump|folder> --target <server|url> [--parallel N] [--speed X] [--ignore-eos]
 *  [--req-start N] [--req-number N] [--timeout S] [--out DIR] [--token T] [--servers FILE]
 *  [--keep-going] [--json]`
 *
 * Wiring only: load the dump, resolve the target and its token, run the engine, write
 * `<out>/replay/replay.json`, print. Exit codes: 0 the replay ran to a verdict (a hang or crash
 * of the target is a finding: exit 0, see `reproduced`); 1 the replay was interrupted (Ctrl-C) or
 * inconclusive (target never answered, every request rejected), replay.json still written;
 * 2 usage.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { findServer, loadRegistry } from '../config/servers.js';
import { cleanTargetOf } from '../config/clean-target.js';
import { TriageError } from '../errors.js';
import { newIncidentId } from '../incident/layout.js';
import { DEFAULT_PARALLEL, DEFAULT_TIMEOUT_MS, runReplay, type ReplayProgress } from '../replay/engine.js';
import { buildDocument, humanSummary, summaryOf, writeReplayJson } from '../replay/report.js';
import type { ReplayRequest } from '../replay/types.js';
import { numberOption, parseCommandArgs } from './args.js';
import { EXIT, print, say, writeJson, type CliContext, type Subcommand } from './io.js';
import { unknownServerError } from './target.js';

const USAGE =
  'triage replay <dump|folder> --target <server|url> [--parallel N] [--speed X] [--ignore-eos] [--req-start N] [--req-number N] [--timeout S] [--out DIR] [--token T] [--servers FILE] [--keep-going] [--json]';

const OPTIONS = {
  target: { type: 'string' },
  parallel: { type: 'string' },
  speed: { type: 'string' },
  'ignore-eos': { type: 'boolean' },
  'req-start': { type: 'string' },
  'req-number': { type: 'string' },
  timeout: { type: 'string' },
  out: { type: 'string' },
  token: { type: 'string' },
  servers: { type: 'string' },
  'keep-going': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export type LoadRequests = (input: string, opts: { signal: AbortSignal }) => Promise<{ requests: ReplayRequest[]; files: string[]; skipped?: number; notes?: string[] }>;

export interface ReplayCommandDeps {
  /** Default: `loadReplayRequests` from src/evidence/dump/load.ts, imported when first needed. */
  loadRequests?: LoadRequests;
  dispatcher?: Dispatcher;
  progressIntervalMs?: number;
}

/** The dump loader (and the pickle reader behind it) loads only when a replay actually runs. */
async function defaultLoader(): Promise<LoadRequests> {
  return (await import('../evidence/dump/load.js')).loadReplayRequests;
}

interface Target {
  url: string;
  token: string | undefined;
  label: string;
}

async function resolveTarget(name: string, values: { token?: string; servers?: string }, ctx: CliContext): Promise<Target> {
  if (/^https?:\/\//i.test(name)) return { url: name, token: ctx.credentials.token({}, values.token), label: name };
  const registry = await loadRegistry(values.servers ?? ctx.env.TRIAGE_SERVERS);
  const server = findServer(registry, name);
  if (!server) throw unknownServerError(name, registry, USAGE);
  // A server name means its clean replay target: a replay never goes to production by name.
  let url: string;
  try {
    url = cleanTargetOf(server);
  } catch (err) {
    throw new TriageError('E_USAGE', `${(err as Error).message}. Pass an explicit URL to override.\nusage: ${USAGE}`);
  }
  say(ctx, `replaying on ${name}'s clean replay target ${url}`);
  return { url, token: ctx.credentials.token({ tokenEnv: server.replay?.tokenEnv }, values.token), label: `${name} (clean target)` };
}

/** `<incident>/dumps/x.pkl` or `<incident>/dumps` → `<incident>`; otherwise a new incident folder under cwd. */
export function defaultOutDir(input: string, cwd: string, now: Date): string {
  const abs = path.resolve(cwd, input);
  for (const dir of [abs, path.dirname(abs)]) {
    if (path.basename(dir) === 'dumps') return path.dirname(dir);
    if (existsSync(path.join(dir, 'incident.json'))) return dir;
  }
  return path.join(cwd, newIncidentId('replay', now));
}

export function progressLine(p: ReplayProgress): string {
  const oldest = p.inFlight ? `, oldest in flight ${(p.oldestInFlightMs / 1000).toFixed(1)}s (idx ${p.oldestInFlightIdx})` : '';
  const why = p.stopReason ? ` (${p.stopReason})` : '';
  return `replay ${p.phase}${why} +${(p.elapsedMs / 1000).toFixed(1)}s: sent ${p.sent}/${p.total}, in flight ${p.inFlight}, done ${p.done}, failed ${p.failed}${oldest}`;
}

export function createReplayCommand(deps: ReplayCommandDeps = {}): Subcommand {
  return async (argv, ctx) => {
    const { values, positionals } = parseCommandArgs(argv, OPTIONS, USAGE);
    if (positionals.length !== 1) throw new TriageError('E_USAGE', `expected one dump file or folder\nusage: ${USAGE}`);
    if (!values.target) throw new TriageError('E_USAGE', `--target is required\nusage: ${USAGE}`);
    const input = positionals[0]!;
    const parallel = numberOption(values.parallel, 'parallel', USAGE, { min: 1, max: 65536, integer: true }) ?? DEFAULT_PARALLEL;
    const speed = numberOption(values.speed, 'speed', USAGE, { min: 1e-6 }) ?? 1;
    const reqStart = numberOption(values['req-start'], 'req-start', USAGE, { min: 0, integer: true });
    const reqNumber = numberOption(values['req-number'], 'req-number', USAGE, { min: 1, integer: true });
    const timeoutS = numberOption(values.timeout, 'timeout', USAGE, { min: 0.001, max: 86_400 });
    const target = await resolveTarget(values.target, values, ctx);

    const load = deps.loadRequests ?? (await defaultLoader());
    const loaded = await load(path.resolve(ctx.cwd, input), { signal: ctx.signal });
    const { requests, files } = loaded;
    for (const note of loaded.notes ?? []) say(ctx, note);
    if (!requests.length) throw new TriageError('E_NOT_FOUND', `no replayable requests in ${input}${loaded.skipped ? ` (${loaded.skipped} malformed record(s) skipped)` : ''}`);
    const outDir = values.out ? path.resolve(ctx.cwd, values.out) : defaultOutDir(input, ctx.cwd, new Date());
    say(ctx, `replaying ${requests.length} request(s) from ${files.length} file(s) on ${target.label} (parallel ${parallel}, speed ${speed}${values['ignore-eos'] ? ', ignore-eos' : ''}${target.token ? ', with token' : ''})`);

    let redraw = false;
    const onProgress = (p: ReplayProgress) => {
      if (ctx.interactive && p.phase !== 'finished') {
        ctx.stderr.write(`\r${progressLine(p)}\x1b[K`);
        redraw = true;
        return;
      }
      if (redraw) ctx.stderr.write('\n');
      redraw = false;
      say(ctx, progressLine(p));
    };
    const run = await runReplay(
      requests,
      {
        target: target.url,
        ...(target.token ? { token: target.token } : {}),
        parallel,
        speed,
        ignoreEos: Boolean(values['ignore-eos']),
        timeoutMs: timeoutS === undefined ? DEFAULT_TIMEOUT_MS : timeoutS * 1000,
        ...(reqStart !== undefined ? { reqStart } : {}),
        ...(reqNumber !== undefined ? { reqNumber } : {}),
        stopWhenTargetGone: !values['keep-going'],
      },
      {
        signal: ctx.signal,
        onProgress,
        ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
        // A redrawn line can tick every second; printed lines (a log, CI) every 5 s, and on each change of phase.
        progressIntervalMs: deps.progressIntervalMs ?? (ctx.interactive ? 1000 : 5000),
      },
    );
    if (redraw) ctx.stderr.write('\n');
    const doc = buildDocument(run, { source: path.resolve(ctx.cwd, input), files, ...(loaded.skipped ? { skipped: loaded.skipped } : {}) });
    const file = await writeReplayJson(outDir, doc);
    // The verdict is the report: stdout, unless --json keeps stdout to the one document.
    if (values.json) {
      for (const line of humanSummary(doc, file)) say(ctx, line);
      writeJson(ctx, summaryOf(doc, file));
    } else print(ctx, humanSummary(doc, file).join('\n'));
    if (run.stopped?.reason === 'signal' || doc.reproduced === 'inconclusive') return EXIT.failure;
    return EXIT.ok;
  };
}

export const replayCommand: Subcommand = createReplayCommand();
