import type { Facts } from '../../contracts/report.js';
import type { SanitizerCategory, SanitizerError } from '../../evidence/gpu/compute-sanitizer.js';
import { PRIORITY, type Rule } from '../rule.js';
import { memcheckCommands } from './gpu-evidence/commands.js';

/**
 * compute-sanitizer findings with no crash: a shared-memory race (racecheck), an invalid barrier
 * (synccheck) or a read of uninitialised global memory (initcheck) makes a kernel's output depend on
 * timing or on garbage, which shows as wrong or non-deterministic output. The kernel is named in facts.
 */
const KINDS: Partial<Record<SanitizerCategory, { rule: string; fact: string; what: string; why: string }>> = {
  race: {
    rule: 'kernel-race',
    fact: 'racyKernel',
    what: 'has a shared-memory data race',
    why: 'Kernel-level correctness bug: find the missing barrier between the two accesses; confirm with memcheck and synccheck on the replay.',
  },
  sync: {
    rule: 'kernel-sync-error',
    fact: 'syncErrorKernel',
    what: 'uses a barrier or warp-synchronous primitive invalidly (divergent threads, wrong mask)',
    why: 'Kernel-level correctness bug: a __syncthreads / __syncwarp / named barrier is reached by only part of the block or warp; fix the divergent path; confirm with racecheck and memcheck on the replay.',
  },
  uninitialized: {
    rule: 'kernel-uninitialized-read',
    fact: 'uninitializedReadKernel',
    what: 'reads global memory nobody wrote',
    why: 'Kernel-level correctness bug: an input buffer (or padding) is read before any kernel or copy wrote it; find who should have filled it one launch upstream; confirm with memcheck on the replay.',
  },
};

export const kernelRaceRule: Rule = {
  id: 'kernel-race',
  evaluate(evidence, ctx) {
    for (const category of ['race', 'sync', 'uninitialized'] as const) {
      for (const item of evidence.of('compute-sanitizer')) {
        const err = item.data.errors.find((e) => e.category === category);
        const kind = KINDS[category];
        if (!err || !kind) continue;
        const facts: Facts = { sanitizerTool: item.data.tool, sanitizerError: err.kind };
        if (err.kernel) {
          facts[kind.fact] = err.kernel;
          facts.sanitizerKernel = err.kernel;
        }
        if (err.deviceFunction) facts.deviceFunction = err.deviceFunction;
        if (err.race?.hazards !== undefined) facts.hazards = err.race.hazards;
        if (err.race?.hazard) facts.hazardType = err.race.hazard;
        if (err.location) facts.sourceLocation = err.location;
        return {
          rule: kind.rule,
          priority: PRIORITY.weak,
          problemClass: 'wrong-output',
          strongestSignal: `${item.data.tool}: ${err.kind}${err.kernel ? ` in ${err.kernel}` : ''}`,
          bestGuess: `${err.kernel ?? 'A kernel'} ${kind.what}${detail(err)}: its result depends on timing or on garbage.`,
          ruledOut: [],
          nextStep: { skill: 'debug-cuda-crash', why: kind.why, commands: memcheckCommands(ctx) },
          productionRisk: 'medium: outputs can be silently wrong or non-deterministic',
          facts,
          evidence: [{ file: item.file, fact: `compute-sanitizer ${item.data.tool} (line ${err.line}): ${err.kind}${err.kernel ? ` in ${err.kernel}` : ''}${err.location ? ` at ${err.location}` : ''}${err.race?.second ? ` and ${err.race.second}` : ''}` }],
        };
      }
    }
    return null;
  },
};

function detail(err: SanitizerError): string {
  if (err.race?.first && err.race.second) return ` (${err.race.first} vs ${err.race.second})`;
  return err.location ? ` (${err.location})` : '';
}
