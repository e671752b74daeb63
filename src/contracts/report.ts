import { z } from 'zod';

/** The output contract (DESIGN.md "report.json"). Other tools read this file: keep it stable. */
export const PROBLEM_CLASSES = ['unhealthy', 'slow', 'crash', 'hang', 'wrong-output', 'regression', 'unknown'] as const;
export type ProblemClass = (typeof PROBLEM_CLASSES)[number];

/** SGLang's own skills (.claude/skills in sgl-project/sglang) first, then ours. */
export const SKILLS = [
  'debug-cuda-crash',
  'debug-distributed-hang',
  'llm-torch-profiler-analysis',
  'kl-consistency-test',
  'git-bisect',
  'fix-at-traceback',
  'collect-more',
] as const;
export type Skill = (typeof SKILLS)[number];

export const evidenceRefSchema = z.object({ file: z.string(), fact: z.string() });
export type EvidenceRef = z.infer<typeof evidenceRefSchema>;

export const nextStepSchema = z.object({
  skill: z.enum(SKILLS),
  why: z.string(),
  commands: z.array(z.string()),
});
export type NextStep = z.infer<typeof nextStepSchema>;

/** Facts are open-ended but these keys have fixed meanings; kernel names are bare (no templates/params). */
export const factsSchema = z
  .object({
    faultingKernel: z.string().optional(),
    cudaException: z.string().optional(),
    rootCauseHint: z.string().optional(),
    stuckKernel: z.string().optional(),
    collective: z.string().optional(),
    divergentRank: z.number().int().optional(),
    dominantStage: z.string().optional(),
    dominantKernel: z.string().optional(),
    triggerRequest: z.unknown().optional(),
    /** 'crash' | 'hang' | 'slow' | 'inconclusive' | false (true: the server failed requests another way). */
    reproduced: z.union([z.boolean(), z.string()]).optional(),
  })
  .catchall(z.unknown());
export type Facts = z.infer<typeof factsSchema>;

export const reportSchema = z.object({
  problemClass: z.enum(PROBLEM_CLASSES),
  checked: z.array(z.string()),
  strongestSignal: z.string(),
  bestGuess: z.string(),
  ruledOut: z.array(z.string()),
  nextStep: nextStepSchema,
  productionRisk: z.string(),
  facts: factsSchema,
  evidence: z.array(evidenceRefSchema),
});
export type Report = z.infer<typeof reportSchema>;
