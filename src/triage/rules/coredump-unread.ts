import { PRIORITY, type Rule } from '../rule.js';
import { coredumpGdbCommand } from './gpu-evidence/commands.js';
import { routeCommand } from '../next-commands.js';

/** A raw CUDA coredump nobody has opened yet: the first thing to do is read it. */
export const unreadCoredumpRule: Rule = {
  id: 'cuda-coredump-unread',
  evaluate(evidence, ctx) {
    const core = evidence.of('cuda-coredump')[0];
    if (!core || evidence.of('cuda-gdb').some((t) => t.data.mode === 'coredump')) return null;
    return {
      rule: this.id,
      priority: PRIORITY.weak,
      problemClass: 'unknown',
      strongestSignal: `an unread CUDA coredump (${core.file})`,
      bestGuess: 'A CUDA coredump exists: either a kernel raised an exception (crash) or someone triggered it during a hang. cuda-gdb tells which.',
      ruledOut: [],
      nextStep: { skill: 'collect-more', why: 'Open the coredump with cuda-gdb; the transcript routes the incident.', commands: [coredumpGdbCommand(ctx, core.data.path), routeCommand(ctx)] },
      productionRisk: 'unknown until the coredump is read',
      facts: { coredump: core.data.path },
      evidence: [{ file: core.file, fact: `raw CUDA coredump, ${core.data.size} bytes` }],
    };
  },
};
