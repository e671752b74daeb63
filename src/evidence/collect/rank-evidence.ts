import { setTimeout as sleep } from 'node:timers/promises';
import { TriageError } from '../../errors.js';
import { triggerUserCoredump, type TriggerOutcome } from './coredump-trigger.js';
import { attachCudaGdb } from './cuda-gdb.js';
import { collectPySpyWithFallback } from './py-spy.js';
import type { ToolDeps, ToolOutcome } from './run-tool.js';

/**
 * Per-rank evidence of a hang, in the order real hardware allows (measured on 2 × H200, see
 * lab/gpu-e2e/coredump_probe.sh):
 *   1. py-spy stacks of every rank: they need no CUDA debugger and change nothing;
 *   2a. mode 'attach' (default): cuda-gdb attach per rank: live kernels and host stacks. The process
 *       keeps running, but the driver then refuses a user-triggered coredump ("late attach");
 *   2b. mode 'coredump': every rank's CUDA_COREDUMP_PIPE at once. The driver writes the GPU state and
 *       then ABORTS the process (SIGABRT about 1 s after the write), and launchers kill the peers, so all
 *       pipes are written together and nothing is attached. Only for a disposable replay target.
 */
export type RankEvidenceMode = 'attach' | 'coredump';

export interface RankTarget {
  pid: number;
  /** The rank's coredump pipe (see coredumpPipePath); absent when the process was not started with it. */
  pipe?: string;
}

export interface RankEvidenceOptions {
  incidentDir: string;
  ranks: RankTarget[];
  signal: AbortSignal;
  mode?: RankEvidenceMode;
  /** How long to let the driver write the coredumps (mode 'coredump'). */
  coredumpWaitMs?: number;
  triggerTimeoutMs?: number;
  pySpy?: ToolDeps & { timeoutMs?: number };
  cudaGdb?: ToolDeps & { timeoutMs?: number };
}

export interface RankEvidence {
  pid: number;
  coredump: TriggerOutcome | { kind: 'skipped'; reason: string };
  pySpy: ToolOutcome;
  cudaGdb: ToolOutcome | { kind: 'skipped'; reason: string };
}

export async function collectRankEvidence(o: RankEvidenceOptions): Promise<RankEvidence[]> {
  const mode = o.mode ?? 'attach';
  const stacks = new Map<number, ToolOutcome>();
  for (const r of o.ranks) {
    stacks.set(r.pid, await collectPySpyWithFallback({ incidentDir: o.incidentDir, pid: r.pid, signal: o.signal, ...(o.pySpy ?? {}) }));
  }

  if (mode === 'coredump') {
    // All at once: the first rank to finish its dump aborts, and its launcher then kills the others.
    const triggers = await Promise.all(
      o.ranks.map((r) => (r.pipe ? triggerUserCoredump(r.pipe, { signal: o.signal, timeoutMs: o.triggerTimeoutMs ?? 10_000 }) : Promise.resolve({ kind: 'skipped' as const, reason: 'no coredump pipe for this process' }))),
    );
    if (triggers.some((t) => t.kind === 'ok')) {
      try {
        await sleep(o.coredumpWaitMs ?? 30_000, undefined, { signal: o.signal });
      } catch (err) {
        throw new TriageError('E_ABORTED', 'aborted while waiting for CUDA coredumps', { cause: err });
      }
    }
    return o.ranks.map((r, i) => ({ pid: r.pid, coredump: triggers[i]!, pySpy: stacks.get(r.pid)!, cudaGdb: { kind: 'skipped', reason: 'coredump mode: the process ends after its dump' } }));
  }

  const out: RankEvidence[] = [];
  for (const r of o.ranks) {
    const cudaGdb = await attachCudaGdb({ incidentDir: o.incidentDir, pid: r.pid, signal: o.signal, ...(o.cudaGdb ?? {}) });
    out.push({ pid: r.pid, coredump: { kind: 'skipped', reason: 'attach mode: a user-triggered coredump would end the process' }, pySpy: stacks.get(r.pid)!, cudaGdb });
  }
  return out;
}
