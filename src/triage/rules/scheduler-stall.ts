import type { EvidenceRef, Facts } from '../../contracts/report.js';
import { PRIORITY, type Rule } from '../rule.js';
import { findCollectiveStall } from './gpu-evidence/collective.js';
import { stallCollectionCommands, watchdogKill, watchdogKilledCommands } from './gpu-evidence/commands.js';
import { hasReplayEvidence } from './gpu-evidence/common.js';
import { crashThatExplainsAStall } from './gpu-evidence/crash-present.js';
import { findLiveness } from './gpu-evidence/liveness.js';

/**
 * A scheduler that stopped making progress with no collective in sight (watchdog timeout, health check
 * failures, a main thread parked in a device synchronize, busy GPUs next to idle ones) → hang, and the
 * next step is to collect what would show the collective or the kernel: stacks, coredump, nvidia-smi.
 */
export const schedulerStallRule: Rule = {
  id: 'scheduler-stall',
  evaluate(evidence, ctx) {
    const c = findCollectiveStall(evidence);
    if (c.collectiveInSight) return null; // the collective-hang rule owns it
    const refs: EvidenceRef[] = [];
    const facts: Facts = {};
    let signal: string | null = null;

    for (const item of evidence.of('server-log')) {
      const wd = item.data.watchdogTimeouts.find((w) => w.who === 'scheduler') ?? item.data.watchdogTimeouts[0];
      if (wd) {
        signal ??= `${wd.who} watchdog fired: ${wd.text}`;
        if (wd.timeoutS !== undefined) facts.watchdogTimeoutS = wd.timeoutS;
      }
      const hc = item.data.healthCheckFailures[0];
      if (hc) {
        signal ??= `health check failed: ${hc.text}`;
        refs.push({ file: item.file, fact: `health check failure (line ${hc.line}): ${hc.text}` });
      }
    }
    const stuck = c.processes.filter((p) => p.state === 'waiting-on-gpu' || p.state === 'in-collective');
    if (stuck.length) {
      signal ??= `${stuck[0]!.who} main thread stuck: ${stuck[0]!.detail}`;
      facts.stallPoint = stuck[0]!.detail;
    }
    if (c.utilisation) {
      signal ??= `GPU utilisation asymmetry: GPU ${c.utilisation.busy.join(', ')} busy, GPU ${c.utilisation.idle.join(', ')} idle`;
      facts.gpuUtilisation = c.utilisation.util;
    }
    if (!signal) return null;
    if (c.divergentPids.length) facts.idlePids = c.divergentPids;

    const dead = crashThatExplainsAStall(evidence);
    const killed = watchdogKill(evidence);
    // A watchdog or failed health check says the server stopped; one stack snapshot or one nvidia-smi only suggests it.
    const confirmed = refs.length > 0 || evidence.of('server-log').some((i) => i.data.watchdogTimeouts.length);
    // Live beats dead: a running process parked on the GPU outranks a refused capture ("server down").
    const live = findLiveness(evidence);
    if (live.alive) facts.processAlive = true;
    const liveAndStuck = live.alive && stuck.length > 0;
    const priority = dead ? PRIORITY.weak : liveAndStuck ? PRIORITY.liveHang - 3 : confirmed ? PRIORITY.schedulerStall : stuck.length ? PRIORITY.schedulerStall - 10 : PRIORITY.weak + 5;
    return {
      rule: this.id,
      priority,
      problemClass: 'hang',
      strongestSignal: signal,
      bestGuess: dead
        ? `The stall follows a crash (${dead.fact}): fix that first.`
        : stuck.some((p) => p.state === 'waiting-on-gpu')
          ? 'The scheduler waits on the GPU (a synchronize that never returns): either a kernel that never finishes or, with several ranks, a collective a peer never joined. The stacks do not show which yet.'
          : 'The scheduler stopped making progress; no collective or kernel is visible yet.',
      ruledOut: [],
      nextStep: {
        skill: 'collect-more',
        why: killed
          ? 'The watchdog timed out and killed the server: SGLang already py-spy dumped every scheduler into its log, wrote the crash dump and killed its process tree, so there is nothing left to attach to. The unfinished request in the crash dump is the trigger: replay it on a clean target with a deadline and collect stacks there while it hangs.'
          : 'Nothing here shows the collective or kernel behind the stall. Take stacks of every scheduler (py-spy --native), snapshot nvidia-smi twice, and only then attach cuda-gdb (an attach disables the user-triggered coredump).',
        commands: killed ? watchdogKilledCommands(ctx, { ...killed, hasReplay: hasReplayEvidence(evidence) }) : stallCollectionCommands(ctx, c.pids),
      },
      productionRisk: 'high: requests queue behind the stalled batch until the watchdog kills the server',
      facts,
      evidence: [...(dead ? [dead] : []), ...c.evidence, ...refs, ...(liveAndStuck ? live.evidence.filter((r) => !c.evidence.some((e) => e.file === r.file)) : [])],
    };
  },
};
