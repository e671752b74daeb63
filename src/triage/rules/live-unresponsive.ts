import { PRIORITY, type Rule } from '../rule.js';
import { incidentBundle, signalIn, bundleFile } from './bundle-helpers.js';
import { stallCollectionCommands } from './gpu-evidence/commands.js';
import { crashThatExplainsAStall } from './gpu-evidence/crash-present.js';
import { findLiveness } from './gpu-evidence/liveness.js';
import { findStuckKernel } from './gpu-evidence/stuck-kernel.js';

/**
 * Live beats dead, when nothing shows where the process is stuck: every endpoint of the capture refused,
 * yet the server's processes are there (triage attached to them, py-spy read them, or the GPU they hold
 * is busy). That is a process that stopped answering, not a server that is gone: hang, and collect the
 * stacks that say where. The stuck-kernel and scheduler-stall rules outrank this when they see more.
 */
export const liveUnresponsiveRule: Rule = {
  id: 'live-but-unresponsive',
  evaluate(evidence, ctx) {
    const bundle = incidentBundle(evidence);
    // Only a refusal on every endpoint: timeouts next to a busy GPU are as likely an overloaded (slow) server.
    const refused = signalIn(bundle, 'server-unreachable');
    if (!bundle || !refused || findStuckKernel(evidence) || crashThatExplainsAStall(evidence)) return null;
    const live = findLiveness(evidence);
    const busy = live.busyGpu && live.busyGpu.util >= 90 ? live.busyGpu : undefined;
    if (!live.pids.length && !busy) return null;
    return {
      rule: this.id,
      priority: PRIORITY.liveHang - 5,
      problemClass: 'hang',
      strongestSignal: `the capture failed (${refused.text.split(':')[0]}) but the server's processes are alive${live.pids.length ? ` (pid ${live.pids.join(', ')})` : ''}${busy ? `, GPU ${busy.index} at ${busy.util}%` : ''}`,
      bestGuess: 'A process that stopped answering, not a server that is gone: the HTTP front end refuses or times out while the GPU processes live on (a stuck scheduler, a kernel that never finishes, or a front end that died and left its schedulers). The stacks say which.',
      ruledOut: ['a dead server: its processes are still there'],
      nextStep: {
        skill: 'collect-more',
        why: 'Nothing here shows where the live process is stuck. Take per-process stacks (py-spy --native), two nvidia-smi snapshots, then cuda-gdb attach, and route again.',
        commands: stallCollectionCommands(ctx, live.pids),
      },
      productionRisk: 'high: the server accepts nothing while its processes hold the GPU; a restart loses the scene, so collect first',
      facts: { processAlive: true, ...(live.pids.length ? { livePids: live.pids } : {}), ...(busy ? { gpuUtilisation: { [busy.index]: busy.util } } : {}) },
      evidence: [...live.evidence, { file: bundleFile(bundle, refused.file), fact: refused.text }],
    };
  },
};
