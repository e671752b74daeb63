import path from 'node:path';
import { incidentPaths } from '../../../incident/layout.js';
import type { Evidence } from '../../../evidence/types.js';
import type { LAUNCH_FLAGS } from '../../../sglang/launch-surface.js';
import {
  captureCommand,
  cleanTargetSteps,
  copyDumpsCommand,
  dumpSummaryCommand,
  replayCommand,
  replayTargetUrl,
  routeCommand,
  saveAndReplaySteps,
  schedulerPattern,
  startCleanTargetCommand,
  triageCommand,
} from '../../next-commands.js';
import type { RouteContext } from '../../rule.js';
import { and, annotate, command, commentLine, concat, fixedNote, forEach, glob, interpolated, note, or, pathArg, pipe, seq, shellVar, substitution, type Word } from '../../shell.js';

/** Exact next-step commands for the GPU routes, filled in with this incident's paths. Pure. */

const COREDUMP_FLAGS = 'skip_nonrelocated_elf_images,skip_global_memory,skip_shared_memory,skip_local_memory,skip_constbank_memory';

/** Paths cuda-gdb's own command parser reads as one plain file name. */
const GDB_SAFE_PATH = /^[A-Za-z0-9_./:+,@%=-]+$/;

/** Env for a crash re-run: kernel API logging (1 names, 3 inputs, 5 statistics, 10 crash-safe dumps) + coredumps. */
export function crashReplayEnv(ctx: RouteContext, level = 10): Record<string, string> {
  const p = incidentPaths(ctx.incidentDir);
  return {
    SGLANG_KERNEL_API_LOGLEVEL: String(level),
    // kernel_api_logging.py replaces %i by the pid: one log (and one dump folder) per rank process.
    SGLANG_KERNEL_API_LOGDEST: path.join(p.logs, 'kernel_api.%i.log'),
    SGLANG_KERNEL_API_DUMP_DIR: path.join(p.dumps, 'kernel_api.%i'),
    SGLANG_CUDA_COREDUMP: '1',
    SGLANG_CUDA_COREDUMP_DIR: p.coredumps,
  };
}

const GDB_CORE_EXS = ['-ex', 'where', '-ex', 'info cuda kernels', '-ex', 'x/12i $pc'];

/**
 * cuda-gdb on a CUDA coredump. The core's path goes into a gdb command (`target cudacore FILE`), which
 * gdb parses again: a path that is not plainly safe is reached through a symlink in a fresh mktemp
 * folder, so no character of it reaches gdb's parser. Without a path: the newest core in coredumps/.
 */
export function coredumpGdbCommand(ctx: RouteContext, corePath?: string): string {
  const p = incidentPaths(ctx.incidentDir);
  const out = corePath ? `${corePath}.cuda-gdb.txt` : path.join(p.coredumps, 'cuda-gdb.txt');
  if (corePath && GDB_SAFE_PATH.test(corePath)) {
    return annotate(command(['cuda-gdb', '-batch', '-ex', 'set pagination off', '-ex', `target cudacore ${corePath}`, ...GDB_CORE_EXS], { stdout: pathArg(out), stderrToStdout: true }), { where: 'gpu-host' });
  }
  const pick = corePath
    ? command(['ln', '-s', '--', pathArg(corePath), concat(shellVar('d'), '/core')])
    : and(`core=$(${pipe(command(['ls', '-t', glob(p.coredumps, 'cuda_coredump_*')]), command(['head', '-n', '1']))})`, command(['ln', '-s', '--', shellVar('core'), concat(shellVar('d'), '/core')]));
  const gdb = command(['cuda-gdb', '-batch', '-ex', 'set pagination off', '-ex', interpolated('target cudacore ', shellVar('d'), '/core'), ...GDB_CORE_EXS], { stdout: pathArg(out), stderrToStdout: true });
  return annotate(seq(and('d=$(mktemp -d)', pick, gdb), command(['rm', '-rf', shellVar('d')])), { where: 'gpu-host' });
}

export function memcheckCommands(ctx: RouteContext): string[] {
  const p = incidentPaths(ctx.incidentDir);
  const log = path.join(p.logs, 'memcheck.%p.txt');
  const sanitizer: Word[] = ['compute-sanitizer', '--tool', 'memcheck', '--target-processes', 'all', '--log-file', pathArg(log)];
  const start = startCleanTargetCommand(ctx, {}, [], sanitizer);
  return [
    start
      ? annotate(start, { note: fixedNote('slow (10-100x): wait for ready, then replay'), where: 'gpu-host' })
      : commentLine(fixedNote('no replay.launch registered: start the clean target under compute-sanitizer --tool memcheck --target-processes all --log-file logs/memcheck.%p.txt (in the incident folder)')),
    replayCommand(ctx, ['--parallel', '1']),
  ];
}

export interface CrashCommandOptions {
  hasReplay: boolean;
  /** A coredump in the folder that no cuda-gdb transcript has read yet. */
  unreadCoredump?: string;
  crashDumpPath?: string;
}

export function cudaCrashCommands(ctx: RouteContext, opts: CrashCommandOptions): string[] {
  const env = crashReplayEnv(ctx);
  const steps: string[] = [];
  if (opts.unreadCoredump) steps.push(coredumpGdbCommand(ctx, opts.unreadCoredump));
  if (!opts.hasReplay) {
    steps.push(...saveAndReplaySteps(ctx, 'crash', env, opts.crashDumpPath ? { crashDumpPath: opts.crashDumpPath } : {}).filter((s) => s !== routeCommand(ctx)));
  } else {
    steps.push(...cleanTargetSteps(ctx, env), replayCommand(ctx), captureCommand(ctx, 'replay/bundle', { url: replayTargetUrl(ctx) }));
  }
  steps.push(coredumpGdbCommand(ctx), ...memcheckCommands(ctx), routeCommand(ctx));
  return steps;
}

/** Env for a hang re-run: NCCL per-call logs per rank, and a CUDA coredump the pipeline can trigger by pipe. */
export function hangReplayEnv(ctx: RouteContext): Record<string, string> {
  const p = incidentPaths(ctx.incidentDir);
  return {
    NCCL_DEBUG: 'INFO',
    NCCL_DEBUG_SUBSYS: 'COLL',
    NCCL_DEBUG_FILE: path.join(p.logs, 'nccl.%h.%p.log'),
    CUDA_ENABLE_USER_TRIGGERED_COREDUMP: '1',
    CUDA_COREDUMP_PIPE: path.join(p.coredumps, 'corepipe.cuda.%h.%p'),
    CUDA_COREDUMP_FILE: path.join(p.coredumps, 'cuda_coredump_%h.%p.%t'),
    CUDA_COREDUMP_SHOW_PROGRESS: '1',
    CUDA_COREDUMP_GENERATION_FLAGS: COREDUMP_FLAGS,
  };
}

/** The pids to loop over: the ones the evidence named, else every process matching the scheduler pattern. */
function pidWords(ctx: RouteContext, pids: readonly number[]): Word[] {
  const valid = pids.filter((p) => Number.isSafeInteger(p) && p > 0);
  return valid.length ? valid.map(String) : [substitution(command(['pgrep', '-f', schedulerPattern(ctx)]))];
}

function perPidFile(dir: string, prefix: string): Word {
  return concat(`${pathArg(dir)}/${prefix}.`, shellVar('pid'), '.txt');
}

function nvidiaSmiSnapshot(gpuDir: string, append = false): string {
  const csv = pathArg(path.join(gpuDir, 'nvidia-smi.csv'));
  return seq(
    command(['nvidia-smi', '--query-gpu=index,uuid,utilization.gpu,memory.used,memory.total', '--format=csv'], { stdout: csv, append }),
    command(['nvidia-smi', '--query-compute-apps=pid,gpu_uuid,used_memory', '--format=csv'], { stdout: csv, append: true }),
  );
}

function pySpyLoop(ctx: RouteContext, pids: readonly number[], stacks: string): string {
  const out = perPidFile(stacks, 'py-spy');
  const native = command(['py-spy', 'dump', '--native', '--pid', shellVar('pid')], { stdout: out, stderrToStdout: true });
  const plain = command(['py-spy', 'dump', '--pid', shellVar('pid')], { stdout: out, stderrToStdout: true });
  return forEach('pid', pidWords(ctx, pids), or(native, plain));
}

function attachLoop(ctx: RouteContext, pids: readonly number[], stacks: string): string {
  const gdb = command(['timeout', '120', 'cuda-gdb', '-p', shellVar('pid'), '-batch', '-ex', 'set pagination off', '-ex', 'info cuda kernels', '-ex', 'thread apply all bt 30'], {
    stdout: perPidFile(stacks, 'cuda-gdb-attach'),
    stderrToStdout: true,
  });
  return forEach('pid', pidWords(ctx, pids), gdb);
}

/**
 * While it hangs, in the order the hardware allows: first what changes nothing (nvidia-smi, py-spy),
 * then cuda-gdb attach (the ranks live on; the driver then refuses a user-triggered coredump). Every
 * rank's CUDA coredump at once (the driver aborts each process after its dump) is `hangEvidence:
 * coredump` in servers.yaml for `triage run hang`. `where` says whose processes these are.
 */
export function hangCollectionCommands(ctx: RouteContext, pids: number[], where: 'production' | 'clean-target' = 'clean-target'): string[] {
  const p = incidentPaths(ctx.incidentDir);
  const server = ctx.server?.name ?? ctx.server?.url;
  const tag = where === 'production' ? 'production-gpu-host' : 'gpu-host';
  return [
    ...(server ? [annotate(triageCommand(ctx, 'run', ['hang', server, '--out', pathArg(ctx.incidentDir)]), { note: fixedNote('all of the below, in this order'), where: tag })] : []),
    ...(where === 'clean-target' && !pids.length ? [commentLine(fixedNote('the loops take every process matching the scheduler pattern on this host: run them where only the clean target serves'))] : []),
    annotate(and(command(['mkdir', '-p', pathArg(p.gpu), pathArg(p.stacks)]), nvidiaSmiSnapshot(p.gpu)), { where: 'gpu-host' }),
    annotate(pySpyLoop(ctx, pids, p.stacks), { where: tag }),
    annotate(attachLoop(ctx, pids, p.stacks), { note: fixedNote('the ranks keep running'), where: tag }),
    commentLine(fixedNote("on a disposable target, instead of the attach: every rank's GPU coredump at once is hangEvidence: coredump in servers.yaml, then triage run hang")),
  ];
}

/** The clean replay target as the subject of the collection (by URL: its processes, never production's by name). */
function onCleanTarget(ctx: RouteContext): RouteContext {
  const pattern = ctx.server?.schedulerProcessPattern;
  return { ...ctx, server: { url: replayTargetUrl(ctx), ...(pattern ? { schedulerProcessPattern: pattern } : {}) } };
}

export function distributedHangCommands(ctx: RouteContext, opts: { hasReplay: boolean; pids: number[] }): string[] {
  const env = hangReplayEnv(ctx);
  const replayFlags = ['--parallel', '1', '--timeout', '120'];
  const steps: string[] = [];
  if (!opts.hasReplay) {
    const saved = saveAndReplaySteps(ctx, 'request', env, { replayFlags });
    const replay = replayCommand(ctx, replayFlags);
    for (const s of saved) {
      steps.push(s);
      if (s === replay) steps.push(...hangCollectionCommands(onCleanTarget(ctx), []));
    }
  } else {
    steps.push(...cleanTargetSteps(ctx, env), replayCommand(ctx, replayFlags), ...hangCollectionCommands(onCleanTarget(ctx), []), captureCommand(ctx, 'replay/bundle', { url: replayTargetUrl(ctx) }), routeCommand(ctx));
  }
  return steps;
}

/** A stall with no collective in sight, on the live production ranks: look before touching anything. */
export function stallCollectionCommands(ctx: RouteContext, pids: number[]): string[] {
  const p = incidentPaths(ctx.incidentDir);
  const twice = forEach('i', ['1', '2'], seq(command(['nvidia-smi', '--query-gpu=index,uuid,utilization.gpu,memory.used', '--format=csv'], { stdout: pathArg(path.join(p.gpu, 'nvidia-smi.csv')), append: true }), command(['sleep', '5'])));
  return [
    captureCommand(ctx, 'baseline'),
    annotate(and(command(['mkdir', '-p', pathArg(p.gpu), pathArg(p.stacks)]), twice), { where: 'gpu-host' }),
    annotate(pySpyLoop(ctx, pids, p.stacks), { note: fixedNote('twice, 10 s apart: a stack that does not move is the stall'), where: 'production-gpu-host' }),
    annotate(attachLoop(ctx, pids, p.stacks), { note: fixedNote('the ranks keep running; a user-triggered coredump is refused after this'), where: 'production-gpu-host' }),
    routeCommand(ctx),
  ];
}

/**
 * After a non-soft watchdog timeout SGLang has already py-spy'd every scheduler into its log
 * (utils/watchdog.py pyspy_dump_schedulers), sent SIGQUIT, written the crash dump and killed its
 * tree: nothing is left to attach to. The unfinished request in the crash dump is the trigger:
 * replay it on the clean target with hang logging, and collect there while it hangs.
 */
export function watchdogKill(evidence: Evidence): { crashDumpPath?: string } | null {
  for (const item of evidence.of('server-log')) {
    // soft=True only logs; a line without soft= comes from versions before the soft watchdog, which always killed.
    if (!item.data.watchdogTimeouts.some((w) => w.soft !== true)) continue;
    const dump = item.data.crashDumps[item.data.crashDumps.length - 1];
    return dump ? { crashDumpPath: dump.path } : {};
  }
  return null;
}

export function watchdogKilledCommands(ctx: RouteContext, opts: { crashDumpPath?: string; hasReplay: boolean }): string[] {
  const p = incidentPaths(ctx.incidentDir);
  const env = hangReplayEnv(ctx);
  const replayFlags = ['--parallel', '1', '--timeout', '120'];
  const steps: string[] = [commentLine(fixedNote('the watchdog killed the server: its py-spy stacks are in the server log ("Pyspy dump for PID"); the crash dump holds the unfinished trigger'))];
  if (ctx.server?.logFile) steps.push(annotate(and(command(['mkdir', '-p', pathArg(p.logs)]), command(['tail', '-n', '5000', pathArg(ctx.server.logFile)], { stdout: pathArg(path.join(p.logs, 'server-tail.log')) })), { where: 'gpu-host' }));
  if (!opts.hasReplay) steps.push(copyDumpsCommand(ctx, 'crash', opts.crashDumpPath), dumpSummaryCommand(ctx, p.dumps));
  steps.push(...cleanTargetSteps(ctx, env), replayCommand(ctx, replayFlags), ...hangCollectionCommands(onCleanTarget(ctx), []), captureCommand(ctx, 'replay/bundle', { url: replayTargetUrl(ctx) }), routeCommand(ctx));
  return steps;
}

type LaunchFlag = keyof typeof LAUNCH_FLAGS;
export interface CapacityKnob {
  flag: LaunchFlag;
  /** What to set it to, in words (ours, constant). */
  hint: string;
}

export function oomCommands(ctx: RouteContext, knobs: readonly CapacityKnob[], hasReplay: boolean): string[] {
  const steps = hasReplay ? [] : saveAndReplaySteps(ctx, 'crash').filter((s) => !s.includes(' capture ') && s !== routeCommand(ctx));
  steps.push(commentLine(fixedNote('one capacity knob at a time on the clean target, then replay:')));
  for (const k of knobs) steps.push(commentLine(fixedNote(`  ${k.flag} ${k.hint}`)));
  steps.push(replayCommand(ctx, ['--parallel', '1']), routeCommand(ctx));
  return steps;
}

/**
 * A host-side exception whose traceback names the code: replay the trigger on the clean target with
 * production's flags (the same code path), confirm the same traceback, then fix at the named frame.
 */
export function tracebackReplayCommands(ctx: RouteContext, hasReplay: boolean): string[] {
  const p = incidentPaths(ctx.incidentDir);
  const steps = hasReplay ? [] : [copyDumpsCommand(ctx, 'crash'), dumpSummaryCommand(ctx, p.dumps)];
  steps.push(...cleanTargetSteps(ctx, {}, [], note`same flags as production, so the same code path runs`));
  steps.push(replayCommand(ctx, ['--parallel', '1']), routeCommand(ctx));
  return steps;
}
