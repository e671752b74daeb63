import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { request, type Dispatcher } from 'undici';
import { TriageError } from '../errors.js';
import { processesInGroup, stopGroup, type ProcessInfo } from './process-group.js';
import type { LaunchPlan } from './launch-plan.js';

/**
 * The clean replay target, started by a pipeline from the registry's `replay.launch` and stopped when
 * the pipeline ends, whatever way it ends. It runs in a process group of its own, so that:
 *  - stopping it stops every process it started (launcher, HTTP server, every rank), and nothing else;
 *  - its members are known, so hang evidence attaches to exactly these ranks, never to production.
 * A reaper process outlives us: if this process is killed (SIGKILL, OOM), the reaper stops the group.
 */

export type HealthProbe = { kind: 'ready' } | { kind: 'answering'; status: number } | { kind: 'down'; reason: string };

export interface TargetDeps {
  dispatcher?: Dispatcher;
  /** Base environment of the target (the pipeline's tool environment); the plan's env is added on top. */
  env: Record<string, string | undefined>;
  signal: AbortSignal;
  onProgress?: (detail: string) => void;
  token?: string;
}

export interface StartOptions {
  url: string;
  plan: LaunchPlan;
  /** The target's stdout and stderr, interleaved (logs/target.log). */
  logFile: string;
  readyTimeoutS: number;
  /** SIGTERM → SIGKILL grace when stopping. */
  graceMs?: number;
  pollMs?: number;
}

export type StopOutcome = { kind: 'exited' | 'killed' | 'gone'; afterMs: number };

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  atMs: number;
}

export interface ManagedTarget {
  url: string;
  pid: number;
  pgid: number;
  logFile: string;
  startedAt: Date;
  readyAfterMs: number;
  plan: LaunchPlan;
  /** Every process of the target right now (the group's members). */
  members(): Promise<ProcessInfo[]>;
  /** Set once the launcher process has exited (the target died or was stopped). */
  exit(): ExitInfo | null;
  /** Resolves when the launcher exits. */
  exited: Promise<ExitInfo>;
  stop(): Promise<StopOutcome>;
}

const DEFAULT_GRACE_MS = 10_000;

/** One GET /health: 200 is ready; any other answer means something listens there; no answer is down. */
export async function probeHealth(url: string, deps: { dispatcher?: Dispatcher; signal: AbortSignal; token?: string }, timeoutMs = 2000): Promise<HealthProbe> {
  const signal = AbortSignal.any([deps.signal, AbortSignal.timeout(timeoutMs)]);
  try {
    const res = await request(new URL('/health', url), {
      method: 'GET',
      signal,
      ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
      ...(deps.token ? { headers: { authorization: `Bearer ${deps.token}` } } : {}),
    });
    await res.body.dump();
    return res.statusCode === 200 ? { kind: 'ready' } : { kind: 'answering', status: res.statusCode };
  } catch (err) {
    return { kind: 'down', reason: (err as { code?: string }).code ?? (err as Error).name };
  }
}

export async function startManagedTarget(opts: StartOptions, deps: TargetDeps): Promise<ManagedTarget> {
  await mkdir(path.dirname(opts.logFile), { recursive: true });
  for (const dir of opts.plan.dirs) await mkdir(dir, { recursive: true });
  const log = await open(opts.logFile, 'a');
  const started = Date.now();
  // node's spawn rather than execa: the target is a long-lived detached group whose output goes straight
  // to the log file descriptor, and whose stopping is ours (stop() or the reaper), not an exit hook's.
  let child: ChildProcess;
  try {
    child = spawn('sh', ['-c', opts.plan.command], {
      detached: true, // a new process group: its id is the child's pid
      stdio: ['ignore', log.fd, log.fd],
      env: { ...deps.env, ...opts.plan.env },
    });
  } finally {
    await log.close();
  }
  let exitInfo: ExitInfo | null = null;
  const exited = new Promise<ExitInfo>((resolve) => {
    const done = (code: number | null, signal: string | null) => {
      exitInfo ??= { code, signal, atMs: Date.now() - started };
      resolve(exitInfo);
    };
    child.once('exit', done);
    child.once('error', () => done(null, null));
  });
  const pid = child.pid;
  if (!pid) throw new TriageError('E_SUBPROCESS', 'could not start the clean target (sh did not start)');
  const pgid = pid;
  const reaper = startReaper(process.pid, pgid, opts.graceMs ?? DEFAULT_GRACE_MS);

  let stopping: Promise<StopOutcome> | null = null;
  const target: ManagedTarget = {
    url: opts.url,
    pid,
    pgid,
    logFile: opts.logFile,
    startedAt: new Date(started),
    readyAfterMs: 0,
    plan: opts.plan,
    members: () => processesInGroup(pgid),
    exit: () => exitInfo,
    exited,
    stop: () =>
      (stopping ??= (async () => {
        const t0 = Date.now();
        const kind = await stopGroup(pgid, { graceMs: opts.graceMs ?? DEFAULT_GRACE_MS, pollMs: 100 });
        await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
        try {
          process.kill(reaper, 'SIGKILL');
        } catch {
          // already gone
        }
        return { kind, afterMs: Date.now() - t0 };
      })()),
  };

  try {
    target.readyAfterMs = await waitReady(opts, deps, () => exitInfo, started);
  } catch (err) {
    await target.stop();
    throw err;
  }
  return target;
}

async function waitReady(opts: StartOptions, deps: TargetDeps, exit: () => ExitInfo | null, started: number): Promise<number> {
  const deadline = started + opts.readyTimeoutS * 1000;
  const poll = opts.pollMs ?? 500;
  let last: HealthProbe = { kind: 'down', reason: 'not probed yet' };
  let lastReport = 0;
  while (Date.now() < deadline) {
    if (deps.signal.aborted) throw new TriageError('E_ABORTED', 'stopped while the clean target was starting');
    const gone = exit();
    if (gone) {
      throw new TriageError('E_SUBPROCESS', `the clean target exited before it was ready (${gone.signal ?? `exit ${gone.code}`} after ${(gone.atMs / 1000).toFixed(1)} s); see ${opts.logFile}`, {
        details: { logFile: opts.logFile },
      });
    }
    last = await probeHealth(opts.url, deps, Math.min(2000, Math.max(250, deadline - Date.now())));
    if (last.kind === 'ready') return Date.now() - started;
    if (Date.now() - lastReport >= 15_000) {
      lastReport = Date.now();
      deps.onProgress?.(`waiting for ${opts.url}/health (${Math.round((Date.now() - started) / 1000)} s of ${opts.readyTimeoutS} s; ${last.kind === 'answering' ? `HTTP ${last.status}` : last.reason})`);
    }
    await new Promise((r) => setTimeout(r, poll));
  }
  throw new TriageError('E_TIMEOUT', `the clean target did not answer /health with 200 within ${opts.readyTimeoutS} s (last: ${last.kind === 'answering' ? `HTTP ${last.status}` : last.kind === 'down' ? last.reason : 'ready'}); see ${opts.logFile}`, {
    details: { logFile: opts.logFile },
  });
}

/**
 * A detached shell that waits for `ownerPid` to go away, then stops the target's group. It is what stops
 * the target when the pipeline's process is SIGKILLed; after a normal stop() it is killed itself.
 */
function startReaper(ownerPid: number, pgid: number, graceMs: number): number {
  const script = 'while kill -0 "$1" 2>/dev/null && kill -0 -"$2" 2>/dev/null; do sleep 0.5; done; kill -TERM -"$2" 2>/dev/null || exit 0; sleep "$3"; kill -KILL -"$2" 2>/dev/null; exit 0';
  const reaper = spawn('sh', ['-c', script, 'triage-target-reaper', String(ownerPid), String(pgid), String(Math.ceil(graceMs / 1000))], { detached: true, stdio: 'ignore' });
  reaper.unref();
  return reaper.pid ?? -1;
}

