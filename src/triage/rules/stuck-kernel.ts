import type { Facts } from '../../contracts/report.js';
import { PRIORITY, type Rule } from '../rule.js';
import { hasReplayEvidence, replayFacts } from './gpu-evidence/common.js';
import { distributedHangCommands } from './gpu-evidence/commands.js';
import { crashThatExplainsAStall } from './gpu-evidence/crash-present.js';
import { findLiveness } from './gpu-evidence/liveness.js';
import { findStuckKernel } from './gpu-evidence/stuck-kernel.js';

/**
 * A single-GPU (or otherwise non-collective) hang: a live kernel that never finishes, the host waiting
 * for it in a device/stream/event synchronize, the GPU busy → hang with `facts.stuckKernel`.
 *
 * Skill: `debug-distributed-hang`. It is SGLang's one hang skill, and its first step ("Confirm and Locate
 * the Hang": py-spy, the watchdog, a user-triggered CUDA coredump to see which kernel is stuck) is exactly
 * what a single rank needs; its later steps (per-rank divergence) simply find nothing to compare.
 * `debug-cuda-crash` does not fit: it starts from a CUDA exception, and a spinning kernel raises none.
 */
export const stuckKernelRule: Rule = {
  id: 'stuck-kernel',
  evaluate(evidence, ctx) {
    const k = findStuckKernel(evidence);
    if (!k) return null;
    const live = findLiveness(evidence);
    const corroborated = k.hostWait !== undefined || k.utilisation !== undefined;
    const dead = crashThatExplainsAStall(evidence);

    const facts: Facts = { stuckKernel: k.kernel, collectiveInvolved: false, seenBy: k.seenBy };
    if (k.liveKernels.length > 1) facts.liveKernels = k.liveKernels;
    if (k.pid !== undefined) facts.stuckPid = k.pid;
    if (k.device !== undefined) facts.device = k.device;
    if (k.launch) facts.launch = k.launch;
    if (k.hostWait) facts.hostWait = k.hostWait.call;
    if (k.utilisation) facts.gpuUtilisation = { [k.utilisation.gpu]: k.utilisation.util };
    if (live.alive) facts.processAlive = true;
    Object.assign(facts, replayFacts(evidence));

    const wait = k.hostWait ? `; the host waits in ${k.hostWait.call}` : '';
    const util = k.utilisation ? `; GPU ${k.utilisation.gpu} at ${k.utilisation.util}%` : '';
    return {
      rule: this.id,
      priority: dead ? PRIORITY.weak : corroborated ? PRIORITY.liveHang : PRIORITY.weak + 10,
      problemClass: 'hang',
      strongestSignal: `kernel ${k.kernel} never finishes on a live process${k.pid !== undefined ? ` (pid ${k.pid})` : ''}${wait}${util}; no collective involved`,
      bestGuess: dead
        ? `A kernel is still running, but a crash explains the stall first (${dead.fact}).`
        : `${k.kernel} does not terminate: a loop whose exit condition never holds (a flag or counter in device memory another kernel or the host should have set, a bad length or index from its inputs, a spin-wait on a peer that will never arrive). Read its inputs on a user-triggered coredump of the replay, and the loop bounds in its source.`,
      ruledOut: [
        'a collective hang: no NCCL kernel or collective in the live kernels and stacks',
        'a crashed server: the process is alive, still running the kernel',
        'slow compute: the kernel does not finish at all, the host has been waiting in a synchronize',
      ],
      nextStep: {
        skill: 'debug-distributed-hang',
        why: 'A hang on one rank with a kernel that never returns. Follow the skill\'s "locate the hang" step on a clean target: replay the trigger, take py-spy stacks, then a user-triggered CUDA coredump (before any cuda-gdb attach) to read the stuck kernel\'s state and inputs; there is no collective to diff.',
        commands: distributedHangCommands(ctx, { hasReplay: hasReplayEvidence(evidence), pids: k.pid !== undefined ? [k.pid] : live.pids }),
      },
      productionRisk: 'high: the GPU is occupied by a kernel that never ends; every request on this server waits until it is restarted, and the same input will hang it again',
      facts,
      evidence: [...(dead ? [dead] : []), ...k.evidence, ...live.evidence.filter((r) => !k.evidence.some((e) => e.file === r.file))],
    };
  },
};
