import path from 'node:path';
import { incidentPaths } from '../../../incident/layout.js';
import { captureCommand, copyDumpsCommand, replayCommand, routeCommand, saveAndReplaySteps, startCleanTargetCommand } from '../../next-commands.js';
import type { RouteContext } from '../../rule.js';
import { envPrefix, shq } from './common.js';

/** Exact next-step commands for the GPU routes, filled in with this incident's paths. Pure. */

const COREDUMP_FLAGS = 'skip_nonrelocated_elf_images,skip_global_memory,skip_shared_memory,skip_local_memory,skip_constbank_memory';

/** The clean target's launch command with env and flags; a placeholder launch when none is registered. */
function launchOrPlaceholder(ctx: RouteContext, env: Record<string, string>, extraFlags = ''): string {
  const start = startCleanTargetCommand(ctx, env);
  if (start) return extraFlags ? `${start} ${extraFlags}` : start;
  const prefix = envPrefix(env);
  return `${prefix ? `${prefix} ` : ''}python -m sglang.launch_server <same model and flags as production, clean target>${extraFlags ? ` ${extraFlags}` : ''}`;
}

/** Env for a crash re-run: kernel API logging (1 names, 3 inputs, 5 statistics, 10 crash-safe dumps) + coredumps. */
export function crashReplayEnv(ctx: RouteContext, level = 10): Record<string, string> {
  const p = incidentPaths(ctx.incidentDir);
  return {
    SGLANG_KERNEL_API_LOGLEVEL: String(level),
    SGLANG_KERNEL_API_LOGDEST: path.join(p.logs, 'kernel_api.log'),
    SGLANG_KERNEL_API_DUMP_DIR: path.join(p.dumps, 'kernel_api'),
    SGLANG_CUDA_COREDUMP: '1',
    SGLANG_CUDA_COREDUMP_DIR: p.coredumps,
  };
}

export function coredumpGdbCommand(ctx: RouteContext, corePath?: string): string {
  const p = incidentPaths(ctx.incidentDir);
  const target = corePath ? shq(`target cudacore ${corePath}`) : `"target cudacore $(ls -t ${shq(p.coredumps)}/cuda_coredump_* | head -1)"`;
  const out = corePath ? `${corePath}.cuda-gdb.txt` : path.join(p.coredumps, 'cuda-gdb.txt');
  return `cuda-gdb -batch -ex 'set pagination off' -ex ${target} -ex where -ex 'info cuda kernels' -ex 'x/12i $pc' > ${shq(out)} 2>&1`;
}

export function memcheckCommands(ctx: RouteContext): string[] {
  const p = incidentPaths(ctx.incidentDir);
  const log = path.join(p.logs, 'memcheck.%p.txt');
  const launch = launchOrPlaceholder(ctx, {});
  return [
    `compute-sanitizer --tool memcheck --target-processes all --log-file ${shq(log)} ${launch}  # slow (10-100x): wait for ready, then replay`,
    replayCommand(ctx, '--parallel 1'),
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
  const p = incidentPaths(ctx.incidentDir);
  const steps: string[] = [];
  if (opts.unreadCoredump) steps.push(coredumpGdbCommand(ctx, opts.unreadCoredump));
  if (!opts.hasReplay) {
    const copy = copyDumpsCommand(ctx, 'crash');
    for (const s of saveAndReplaySteps(ctx, 'crash', env)) {
      if (s === routeCommand(ctx)) continue;
      steps.push(s === copy && opts.crashDumpPath ? `mkdir -p ${shq(p.dumps)} && cp ${shq(opts.crashDumpPath)} ${shq(p.dumps)}/` : s);
      if (s === copy && !startCleanTargetCommand(ctx)) steps.push(launchOrPlaceholder(ctx, env));
    }
  } else {
    steps.push(launchOrPlaceholder(ctx, env), replayCommand(ctx), captureCommand(ctx, 'replay/bundle'));
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

function pidsExpr(pids: number[]): string {
  return pids.length ? pids.join(' ') : "$(pgrep -f 'sglang::scheduler')";
}

/**
 * While it hangs, in the order the hardware allows: first what changes nothing (nvidia-smi, py-spy),
 * then EITHER cuda-gdb attach (the ranks live on; the driver then refuses a user-triggered coredump)
 * OR, on a disposable target, every rank's CUDA coredump at once (the driver aborts each process
 * about a second after writing its dump). `triage run hang <server>` does exactly this.
 */
export function hangCollectionCommands(ctx: RouteContext, pids: number[]): string[] {
  const p = incidentPaths(ctx.incidentDir);
  const server = ctx.server?.name ?? ctx.server?.url;
  return [
    ...(server ? [`triage run hang ${shq(server)} --out ${shq(ctx.incidentDir)}   # all of the below, in this order`] : []),
    `mkdir -p ${shq(p.gpu)} ${shq(p.stacks)} && nvidia-smi --query-gpu=index,uuid,utilization.gpu,memory.used,memory.total --format=csv > ${shq(path.join(p.gpu, 'nvidia-smi.csv'))}; nvidia-smi --query-compute-apps=pid,gpu_uuid,used_memory --format=csv >> ${shq(path.join(p.gpu, 'nvidia-smi.csv'))}`,
    `for pid in ${pidsExpr(pids)}; do py-spy dump --native --pid "$pid" > ${shq(p.stacks)}/py-spy.$pid.txt 2>&1 || py-spy dump --pid "$pid" > ${shq(p.stacks)}/py-spy.$pid.txt 2>&1; done`,
    `for pid in ${pidsExpr(pids)}; do timeout 120 cuda-gdb -p "$pid" -batch -ex 'set pagination off' -ex 'info cuda kernels' -ex 'thread apply all bt 30' > ${shq(p.stacks)}/cuda-gdb-attach.$pid.txt 2>&1; done  # the ranks keep running`,
    `# on a disposable target, INSTEAD of the attach: every rank's GPU coredump at once (each process aborts right after its dump)`,
    `# for pipe in ${shq(p.coredumps)}/corepipe.cuda.*; do (timeout 10 sh -c 'printf 1 > "$1"' _ "$pipe" &); done; sleep 30; for core in ${shq(p.coredumps)}/cuda_coredump_*; do cuda-gdb -batch -ex 'set pagination off' -ex "target cudacore $core" -ex 'info cuda kernels' -ex where > "$core.cuda-gdb.txt" 2>&1; done`,
  ];
}

export function distributedHangCommands(ctx: RouteContext, opts: { hasReplay: boolean; pids: number[] }): string[] {
  const env = hangReplayEnv(ctx);
  const steps: string[] = [];
  if (!opts.hasReplay) {
    for (const s of saveAndReplaySteps(ctx, 'request', env)) {
      if (s.startsWith('triage replay') && !startCleanTargetCommand(ctx)) steps.push(launchOrPlaceholder(ctx, env));
      steps.push(s.startsWith('triage replay') ? s.replace(' --out ', ' --timeout 120 --out ') : s);
      if (s.startsWith('triage replay')) steps.push(...hangCollectionCommands(ctx, []));
    }
  } else {
    steps.push(launchOrPlaceholder(ctx, env), replayCommand(ctx, '--parallel 1 --timeout 120'), ...hangCollectionCommands(ctx, []), captureCommand(ctx, 'replay/bundle'), routeCommand(ctx));
  }
  return steps;
}

/** A stall with no collective in sight: look before touching anything. */
export function stallCollectionCommands(ctx: RouteContext, pids: number[]): string[] {
  const p = incidentPaths(ctx.incidentDir);
  return [
    captureCommand(ctx, 'baseline'),
    `for i in 1 2; do nvidia-smi --query-gpu=index,uuid,utilization.gpu,memory.used --format=csv >> ${shq(path.join(p.gpu, 'nvidia-smi.csv'))}; sleep 5; done`,
    `for pid in ${pidsExpr(pids)}; do py-spy dump --native --pid "$pid" > ${shq(p.stacks)}/py-spy.$pid.txt 2>&1; done  # twice, 10 s apart: a stack that does not move is the stall`,
    `for pid in ${pidsExpr(pids)}; do kill -USR1 "$pid"; done  # only if the process registered faulthandler on SIGUSR1; py-spy needs no cooperation`,
    `for pid in ${pidsExpr(pids)}; do timeout 120 cuda-gdb -p "$pid" -batch -ex 'set pagination off' -ex 'info cuda kernels' -ex 'thread apply all bt 30' > ${shq(p.stacks)}/cuda-gdb-attach.$pid.txt 2>&1; done  # the ranks keep running; a user-triggered coredump is refused after this`,
    routeCommand(ctx),
  ];
}

export function oomCommands(ctx: RouteContext, knobs: string[], hasReplay: boolean): string[] {
  const steps = hasReplay ? [] : saveAndReplaySteps(ctx, 'crash').filter((s) => !s.startsWith('triage capture'));
  for (const knob of knobs) steps.push(`${launchOrPlaceholder(ctx, {}, knob)}  # one capacity knob at a time, then replay`);
  steps.push(replayCommand(ctx, '--parallel 1'), routeCommand(ctx));
  return steps;
}

export function debugModeCommands(ctx: RouteContext, hasReplay: boolean): string[] {
  const steps = hasReplay ? [] : saveAndReplaySteps(ctx, 'crash').filter((s) => !s.startsWith('triage replay') && !s.startsWith('triage capture') && !s.startsWith('triage route'));
  steps.push(`${launchOrPlaceholder(ctx, {}, '--debug-mode')}  # dev-only: never on a production server`);
  steps.push(replayCommand(ctx, '--parallel 1'), routeCommand(ctx));
  return steps;
}
