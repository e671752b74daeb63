import type { Facts } from '../../contracts/report.js';
import { PRIORITY, type Rule } from '../rule.js';
import { memcheckCommands } from './gpu-evidence/commands.js';

/**
 * compute-sanitizer racecheck hazards with no crash: a shared-memory race makes a kernel's output
 * depend on timing, which shows as wrong or non-deterministic output.
 */
export const kernelRaceRule: Rule = {
  id: 'kernel-race',
  evaluate(evidence, ctx) {
    for (const item of evidence.of('compute-sanitizer')) {
      const race = item.data.errors.find((e) => e.category === 'race');
      if (!race) continue;
      const facts: Facts = { racyKernel: race.kernel, hazards: race.race?.hazards };
      return {
        rule: this.id,
        priority: PRIORITY.weak,
        problemClass: 'wrong-output',
        strongestSignal: `racecheck: ${race.kind}${race.kernel ? ` in ${race.kernel}` : ''}`,
        bestGuess: `${race.kernel ?? 'A kernel'} has a shared-memory data race (${race.race?.first ?? ''} vs ${race.race?.second ?? ''}): its result depends on warp timing.`,
        ruledOut: [],
        nextStep: {
          skill: 'debug-cuda-crash',
          why: 'Kernel-level correctness bug: find the missing barrier between the two accesses; confirm with memcheck and synccheck on the replay.',
          commands: memcheckCommands(ctx),
        },
        productionRisk: 'medium: outputs can be silently wrong or non-deterministic',
        facts,
        evidence: [{ file: item.file, fact: `compute-sanitizer racecheck (line ${race.line}): ${race.kind}${race.race?.second ? ` and ${race.race.second}` : ''}` }],
      };
    }
    return null;
  },
};
