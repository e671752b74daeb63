import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { collectHangEvidence, DEFAULT_SCHEDULER_PATTERN } from '../../evidence/collect/host-evidence.js';
import type { ProcessInfo } from '../../target/process-group.js';
import { MINUTE, type Stage } from '../context.js';

/**
 * Per-rank evidence from the clean target that hangs, in the order the hardware allows (see
 * evidence/collect/rank-evidence.ts): nvidia-smi, py-spy stacks, then cuda-gdb attach (default) or every
 * rank's user-triggered coredump at once (`hangEvidence: coredump`, which ends each rank). Only the
 * target's own processes (its process group) are touched: production is never attached to.
 */
export const rankEvidenceStage: Stage = {
  title: 'stacks, attach and GPU state of the target ranks',
  deadlineMs: () => 10 * MINUTE,
  skip: (ctx) =>
    ctx.state.target?.kind !== 'managed'
      ? 'the target was not started by this pipeline, so its ranks are not known: run the printed hang commands on the GPU host'
      : ctx.state.replay?.reproduced !== 'hang'
        ? `the replay did not hang the target (reproduced: ${String(ctx.state.replay?.reproduced ?? 'no replay')})`
        : null,
  async run(ctx, signal) {
    const handle = ctx.state.target;
    if (handle?.kind !== 'managed') return 'no target';
    const members = await handle.target.members();
    const ranks = schedulerRanks(members, ctx.server?.schedulerProcessPattern ?? DEFAULT_SCHEDULER_PATTERN, handle.target.pid);
    if (!ranks.length) return `no live process in the target's group ${handle.target.pgid} (it exited: ${describeExit(handle.target.exit())})`;
    const r = await collectHangEvidence(ctx.paths, signal, {
      pids: ranks.map((p) => p.pid),
      ...(ctx.deps.toolEnv ? { env: ctx.deps.toolEnv } : {}),
      mode: ctx.server?.hangEvidence ?? 'attach',
    });
    return (
      `${r.pids.length} rank process(es) of group ${handle.target.pgid}; py-spy ${r.ranks.map((x) => x.pySpy.kind).join('/') || 'n/a'}; ` +
      (r.mode === 'attach' ? `cuda-gdb attach ${r.ranks.map((x) => x.cudaGdb.kind).join('/') || 'n/a'}` : `coredumps ${r.ranks.map((x) => x.coredump.kind).join('/') || 'n/a'}, cuda-gdb on ${r.cores.length} core(s)`) +
      `; nvidia-smi ${r.gpu.gpus.kind}`
    );
  },
};

/**
 * The ranks among the target's processes: those whose command line matches the scheduler pattern
 * (SGLang titles them sglang::scheduler_TP<n>). Without a match, every member but the `sh -c` wrapper
 * that ran the launch line (a launch that `exec`s replaces the wrapper, and then that process counts).
 */
export function schedulerRanks(members: ProcessInfo[], pattern: string, _launcherPid: number): ProcessInfo[] {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch {
    re = new RegExp(DEFAULT_SCHEDULER_PATTERN);
  }
  const matching = members.filter((p) => re.test(p.cmdline));
  return matching.length ? matching : members.filter((p) => !/^(\/bin\/|\/usr\/bin\/)?(ba|da)?sh -c /.test(p.cmdline));
}

function describeExit(exit: { code: number | null; signal: string | null } | null): string {
  return exit ? (exit.signal ?? `exit ${exit.code}`) : 'no exit seen';
}

/** The NCCL debug files the target wrote (NCCL_DEBUG_FILE points into logs/); route reads them by content. */
export const ncclLogStage: Stage = {
  title: 'NCCL logs',
  deadlineMs: () => MINUTE,
  skip: (ctx) => (ctx.state.target?.kind === 'managed' && ctx.state.target.target.plan.ncclLogDir ? null : 'the target was not started with NCCL_DEBUG_FILE'),
  async run(ctx) {
    const dir = ctx.state.target?.kind === 'managed' ? ctx.state.target.target.plan.ncclLogDir! : ctx.paths.logs;
    const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.startsWith('nccl.'));
    const sizes = await Promise.all(files.map(async (f) => (await stat(path.join(dir, f)).catch(() => null))?.size ?? 0));
    return files.length ? `${files.length} file(s), ${sizes.reduce((a, b) => a + b, 0)} bytes: ${files.join(', ')}` : 'the target wrote no NCCL debug file';
  },
};
