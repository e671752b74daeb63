/**
 * Recognizers for what the regression and wrong-output pipelines write (bisect/plan.json +
 * bisect/version-diff.json, compare/outputs.json), by content: a JSON object with our artifact_type.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Recognizer, SniffedFile } from './types.js';

const MAX_BYTES = 16 * 1024 * 1024;

const bisectPlanSchema = z.object({
  artifact_type: z.literal('triage_bisect_plan'),
  good: z.string(),
  bad: z.string(),
  harness: z.string(),
  commands: z.array(z.string()),
  ran: z.boolean().catch(false),
  firstBadCommit: z.string().nullable().optional(),
});
export type BisectPlanEvidence = z.infer<typeof bisectPlanSchema>;

const versionDiffSchema = z.object({
  artifact_type: z.literal('triage_version_diff'),
  goodBaseline: z.string().nullable(),
  versions: z.array(z.object({ key: z.string(), good: z.string().nullable(), bad: z.string().nullable() })).catch([]),
  serverInfoDiff: z.array(z.object({ key: z.string(), good: z.unknown(), bad: z.unknown() })).catch([]),
});
export type VersionDiffEvidence = z.infer<typeof versionDiffSchema>;

const outputCompareSchema = z.object({
  artifact_type: z.literal('triage_output_compare'),
  target: z.string(),
  comparedProduction: z.boolean().catch(false),
  identity: z
    .object({ baseline: z.string().nullable(), compared: z.boolean(), changed: z.array(z.object({ field: z.string(), before: z.unknown(), now: z.unknown() })) })
    .nullable()
    .catch(null),
  compared: z.number(),
  identical: z.number(),
  differing: z.number(),
  differingGreedy: z.number().catch(0),
  results: z.array(z.object({ rid: z.string().nullable(), same: z.boolean().nullable(), firstDifferenceAt: z.number().nullable().catch(null), recorded: z.string().catch(''), replayed: z.string().nullable().catch(null) }).passthrough()).catch([]),
});
export type OutputCompareEvidence = z.infer<typeof outputCompareSchema>;

declare module './types.js' {
  interface EvidenceKinds {
    'bisect-plan': BisectPlanEvidence;
    'version-diff': VersionDiffEvidence;
    'output-compare': OutputCompareEvidence;
  }
}

function jsonRecognizer<K extends 'bisect-plan' | 'version-diff' | 'output-compare'>(kind: K, marker: string, schema: z.ZodType, describe: Recognizer<K>['describe']): Recognizer<K> {
  const re = new RegExp(`"artifact_type"\\s*:\\s*"${marker}"`);
  return {
    kind,
    sniff: (file: SniffedFile) => file.size <= MAX_BYTES && file.head.trimStart().startsWith('{') && re.test(file.head),
    async read(file: SniffedFile) {
      try {
        const parsed = schema.safeParse(JSON.parse(await readFile(file.path, 'utf8')));
        return parsed.success ? (parsed.data as never) : null;
      } catch {
        return null;
      }
    },
    describe,
  };
}

export const bisectPlanRecognizer = jsonRecognizer('bisect-plan', 'triage_bisect_plan', bisectPlanSchema, (d) =>
  d.ran ? `git bisect between ${d.good} (good) and ${d.bad} (bad): first bad commit ${d.firstBadCommit ?? 'not found'}` : `git bisect harness for ${d.good} (good) → ${d.bad} (bad), not run yet`,
);
export const versionDiffRecognizer = jsonRecognizer('version-diff', 'triage_version_diff', versionDiffSchema, (d) =>
  d.goodBaseline ? `good vs bad baseline: ${d.serverInfoDiff.length} server_info field(s) differ` : 'no earlier baseline to diff against',
);
export const outputCompareRecognizer = jsonRecognizer('output-compare', 'triage_output_compare', outputCompareSchema, (d) => `greedy replay vs recorded outputs: ${d.compared} compared, ${d.differing} differ`);

export const PIPELINE_ARTIFACT_RECOGNIZERS: readonly Recognizer[] = [bisectPlanRecognizer as Recognizer, versionDiffRecognizer as Recognizer, outputCompareRecognizer as Recognizer];
