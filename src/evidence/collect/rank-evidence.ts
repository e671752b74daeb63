import { setTimeout as sleep } from 'node:timers/promises';
import { TriageError } from '../../errors.js';
import { triggerUserCoredump, type TriggerOutcome } from './coredump-trigger.js';
import { attachCudaGdb } from './cuda-gdb.js';
import { collectPySpyWithFallback } from './py-spy.js';
import type { ToolDeps, ToolOutcome } from './run-tool.js';

/**
 * Per-rank evidence of a hang, in the only safe order: every rank's CUDA coredump first (a debugger
 * attach disables it), then py-spy stacks (they do not need the CUDA debugger), then cuda-gdb attach.
 */
export interface RankTarget {
  pid: number;
  /** The rank's coredump pipe (see coredumpPipePath); absent when the process was not started with it. */
  pipe?: string;
}

export interface RankEvidenceOptions {
  incidentDir: string;
  ranks: RankTarget[];
  signal: AbortSignal;
  /** How long to let the driver write the coredumps before attaching anything. */
  coredumpWaitMs?: number;
  triggerTimeoutMs?: number;
  pySpy?: ToolDeps & { timeoutMs?: number };
  cudaGdb?: ToolDeps & { timeoutMs?: number };
}

export interface RankEvidence {
  pid: number;
  coredump: TriggerOutcome | { kind: 'skipped'; reason: string };
  pySpy: ToolOutcome;
  cudaGdb: ToolOutcome;
}

export async function collectRankEvidence(o: RankEvidenceOptions): Promise<RankEvidence[]> {
  const triggers = new Map<number, RankEvidence['coredump']>();
  for (const r of o.ranks) {
    triggers.set(r.pid, r.pipe ? await triggerUserCoredump(r.pipe, { signal: o.signal, timeoutMs: o.triggerTimeoutMs ?? 10_000 }) : { kind: 'skipped', reason: 'no coredump pipe for this process' });
  }
  if ([...triggers.values()].some((t) => t.kind === 'ok')) {
    try {
      await sleep(o.coredumpWaitMs ?? 30_000, undefined, { signal: o.signal });
    } catch (err) {
      throw new TriageError('E_ABORTED', 'aborted while waiting for CUDA coredumps', { cause: err });
    }
  }
  const stacks = new Map<number, ToolOutcome>();
  for (const r of o.ranks) {
    stacks.set(r.pid, await collectPySpyWithFallback({ incidentDir: o.incidentDir, pid: r.pid, signal: o.signal, ...(o.pySpy ?? {}) }));
  }
  const out: RankEvidence[] = [];
  for (const r of o.ranks) {
    const cudaGdb = await attachCudaGdb({ incidentDir: o.incidentDir, pid: r.pid, signal: o.signal, ...(o.cudaGdb ?? {}) });
    out.push({ pid: r.pid, coredump: triggers.get(r.pid)!, pySpy: stacks.get(r.pid)!, cudaGdb });
  }
  return out;
}
