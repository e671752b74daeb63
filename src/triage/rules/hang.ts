import type { Facts } from '../../contracts/report.js';
import { PRIORITY, type Rule } from '../rule.js';
import { findCollectiveStall } from './gpu-evidence/collective.js';
import { batchFact, describeBatch, hasReplayEvidence, lastBatch, replayFacts, unique } from './gpu-evidence/common.js';
import { distributedHangCommands, watchdogKill, watchdogKilledCommands } from './gpu-evidence/commands.js';
import { crashThatExplainsAStall } from './gpu-evidence/crash-present.js';

/**
 * Collective stall → hang → debug-distributed-hang. Fires when a collective is in sight (NCCL COLL log,
 * a live NCCL kernel, torch's NCCL watchdog, a stack in a collective) and ranks disagree or stall.
 */
export const collectiveHangRule: Rule = {
  id: 'collective-hang',
  evaluate(evidence, ctx) {
    const c = findCollectiveStall(evidence);
    const diverged = c.divergence !== undefined || c.divergentRanks.length > 0 || c.divergentPids.length > 0;
    if (!c.collectiveInSight || !(diverged || c.stalled)) return null;

    const facts: Facts = {};
    if (c.stuckKernel) facts.stuckKernel = c.stuckKernel;
    if (c.collective) facts.collective = c.collective;
    if (c.divergentRank !== undefined) facts.divergentRank = c.divergentRank;
    if (c.divergentRanks.length > 1) facts.divergentRanks = c.divergentRanks;
    if (c.divergentRank === undefined && c.divergentPids.length) facts.divergentPids = c.divergentPids;
    if (Object.keys(c.lastCollectives).length) facts.lastCollectives = c.lastCollectives;
    if (c.divergence) facts.firstDivergence = { index: c.divergence.index + 1, kind: c.divergence.kind, expected: c.divergence.expected ?? c.divergence.op, communicator: c.divergence.group };
    if (c.utilisation) facts.gpuUtilisation = c.utilisation.util;
    const trigger = lastBatch(evidence.of('server-log'));
    if (trigger) facts.triggerBatch = batchFact(trigger.batch);
    Object.assign(facts, replayFacts(evidence));
    const stuck = unique(c.processes.filter((p) => p.state !== 'idle').map((p) => p.who));
    if (stuck.length) facts.stuckProcesses = stuck;

    const skipper = c.divergentRank !== undefined ? `rank ${c.divergentRank}` : c.divergentPids.length ? `pid ${c.divergentPids.join(', ')}` : 'a rank';
    const collective = c.collective ?? 'a collective';
    const strongest = c.divergence
      ? `NCCL ${collective} sequence diverges at call #${c.divergence.index + 1}: ${skipper} ${c.divergence.kind === 'missing' ? 'never issued it' : 'issued a different call'}${c.stuckKernel ? `, while ${stuck.join(', ') || 'its peer'} spins in ${c.stuckKernel}` : ''}`
      : c.stuckKernel
        ? `${stuck.join(', ') || 'a rank'} stuck in ${c.stuckKernel}${diverged ? ` while ${skipper} never joined` : ''}`
        : `ranks stalled in ${collective}${diverged ? `; ${skipper} is behind` : ''}`;

    const dead = crashThatExplainsAStall(evidence);
    const killed = watchdogKill(evidence);
    const ruledOut = ['compute slowness / profiling: the GPUs are not computing, one rank waits for a peer that never joins', 'a kernel fault: no CUDA exception in the evidence'];
    if (c.utilisation) ruledOut.push('an idle server: busy GPUs spin in NCCL while the others idle');
    return {
      rule: this.id,
      priority: dead ? PRIORITY.weak : PRIORITY.collectiveHang,
      problemClass: 'hang',
      strongestSignal: strongest,
      bestGuess: dead
        ? `The stall follows a rank that died (${dead.fact}): fix that first; the collective hang is its consequence.`
        : `Request-shaped collective mismatch: on the trigger batch ${skipper} skipped ${collective} that its peers entered, so they wait forever in ${c.stuckKernel ?? 'NCCL'}. Look for a code path that depends on the batch (token count, rank-local state) around the ${collective} call.`,
      ruledOut: dead ? [] : ruledOut,
      nextStep: {
        skill: 'debug-distributed-hang',
        why: `A collective is stuck and the ranks disagree about it. Re-run the trigger on a clean target with NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=COLL per-rank logs, take per-rank stacks (py-spy) while it hangs, then either attach cuda-gdb (the ranks live on, but the driver then refuses a user-triggered coredump: "not supported with late attach") or, on a disposable target, write every rank's CUDA_COREDUMP_PIPE at once (the driver aborts each process right after its dump), and diff the per-rank collective sequences for the first divergence.`,
        commands: killed ? watchdogKilledCommands(ctx, { ...killed, hasReplay: hasReplayEvidence(evidence) }) : distributedHangCommands(ctx, { hasReplay: hasReplayEvidence(evidence), pids: c.pids }),
      },
      productionRisk: 'high: every request behind the stuck batch waits forever and health checks time out; the server needs a restart, and the same request shape will hang it again',
      facts,
      evidence: [...(dead ? [dead] : []), ...c.evidence, ...(trigger ? [{ file: trigger.file, fact: `last batch before the stall: ${describeBatch(trigger.batch)}` }] : [])],
    };
  },
};
