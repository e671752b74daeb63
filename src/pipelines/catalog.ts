/**
 * The pipeline catalog: every pipeline as data. The CLI's list, the queue's job schema, the set of
 * intrusive pipelines and Slack's "run next step" mapping are all derived from here.
 *
 * The step lists themselves live in `steps/` (one module per stage); this file names the pipelines and
 * their properties so that transports can import it without pulling in the collectors.
 */

export const PIPELINE_NAMES = ['capture', 'route', 'replay', 'auto', 'slow', 'crash', 'hang', 'regression', 'wrong-output'] as const;
export type PipelineName = (typeof PIPELINE_NAMES)[number];

import type { Skill } from '../contracts/report.js';

export interface PipelineInfo {
  name: PipelineName;
  /** One line for help texts and Slack. */
  summary: string;
  /**
   * Replays traffic, starts or stops a target, attaches a debugger or profiles: gated by `access` and
   * confirmed in Slack. Read-only pipelines only read what the server serves or left on its host.
   */
  intrusive: boolean;
  /** Offered by `triage run` and `/triage run` (capture and route have commands of their own). */
  runnable: boolean;
  /** Extra CLI flags this pipeline needs (documentation; the CLI validates them). */
  needs?: string;
}

export const PIPELINE_INFO: Readonly<Record<PipelineName, PipelineInfo>> = {
  capture: { name: 'capture', summary: 'a read-only bundle of the live server, routed', intrusive: false, runnable: false },
  route: { name: 'route', summary: 'route the incident folder again', intrusive: false, runnable: false },
  auto: { name: 'auto', summary: 'bundle, server log, crash dumps and coredumps already on the host (read-only)', intrusive: false, runnable: true },
  replay: { name: 'replay', summary: 'replay the incident dumps on the clean target', intrusive: true, runnable: true },
  crash: { name: 'crash', summary: 'crash dump → start the clean target with coredumps on → replay → coredump + cuda-gdb → stop', intrusive: true, runnable: true },
  hang: { name: 'hang', summary: 'trigger → start the clean target → replay with a deadline → bundles, stacks, attach, NCCL → stop', intrusive: true, runnable: true },
  slow: { name: 'slow', summary: 'saved slow request → replay at parallel 1 → profile only when compute-side → stop', intrusive: true, runnable: true },
  regression: { name: 'regression', summary: 'good vs bad build: a replay-backed git bisect harness and a version diff', intrusive: true, runnable: true, needs: '--good REF --bad REF' },
  'wrong-output': { name: 'wrong-output', summary: 'identity drift against the baseline, greedy replay compared with recorded outputs', intrusive: true, runnable: true },
};

export const INTRUSIVE_PIPELINES: ReadonlySet<PipelineName> = new Set(PIPELINE_NAMES.filter((p) => PIPELINE_INFO[p].intrusive));
export const RUNNABLE_PIPELINES: readonly PipelineName[] = PIPELINE_NAMES.filter((p) => PIPELINE_INFO[p].runnable);

/**
 * Which pipeline carries out a report's next skill ("Run next step"). fix-at-traceback is work for a
 * person at the code the traceback names, and git-bisect needs a person to name the good and bad
 * builds (`/triage run regression <server> --good REF --bad REF`), so neither runs from a button.
 */
export const PIPELINE_FOR_SKILL: Readonly<Record<Skill, PipelineName | null>> = {
  'collect-more': 'auto',
  'debug-cuda-crash': 'crash',
  'debug-distributed-hang': 'hang',
  'llm-torch-profiler-analysis': 'slow',
  'kl-consistency-test': 'wrong-output',
  'git-bisect': null,
  'fix-at-traceback': null,
};

export function isPipelineName(value: string): value is PipelineName {
  return (PIPELINE_NAMES as readonly string[]).includes(value);
}
