import { z } from 'zod';
import { PIPELINE_NAMES } from '../pipelines/catalog.js';
import type { PipelineDeps, PipelineRequest, PipelineResult, ProgressSink } from '../pipelines/types.js';
import { stepViewSchema } from '../incident/types.js';

/** What crosses Redis between the bot (producer) and a host's worker. Validated on both ends. */
// Derived from the pipeline catalog: one list for the CLI, the job schema and Slack.
export { INTRUSIVE_PIPELINES, PIPELINE_NAMES as PIPELINES } from '../pipelines/catalog.js';

/** Where the bot shows this job in Slack; the worker only echoes it back in its progress. */
export const slackTargetSchema = z.object({ channel: z.string(), threadTs: z.string().optional(), statusTs: z.string().optional() });
export type SlackTarget = z.infer<typeof slackTargetSchema>;

const serverRef = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, { message: 'a registered server name' });

/**
 * A git revision as typed in Slack (a tag, branch, sha, `v0.4.1`, `main~3`): no spaces, quotes or
 * shell metacharacters, so it can never carry a command. Launch commands come from servers.yaml only.
 */
export const gitRefSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._\/@^~+-]{0,199}$/, { message: 'a git revision (tag, branch or sha)' });

export const pipelineJobSchema = z.object({
  incidentId: z.string().regex(/^inc-[A-Za-z0-9._-]+$/),
  server: serverRef,
  pipeline: z.enum(PIPELINE_NAMES),
  requestedBy: z.string(),
  /** When the incident was opened (incident.json's createdAt). */
  createdAt: z.string(),
  /** Replay target: a registered server name, never a URL typed into Slack. */
  target: serverRef.optional(),
  timeoutS: z.number().positive().max(600).optional(),
  /** regression: the known-good and known-bad revisions; run: also run `git bisect`. */
  regression: z.object({ good: gitRefSchema, bad: gitRefSchema, run: z.boolean().optional() }).optional(),
  /** wrong-output: also send the greedy replay to production (intrusive; the bot gated it). */
  compareProduction: z.boolean().optional(),
  slack: slackTargetSchema.optional(),
});
export type PipelineJobData = z.infer<typeof pipelineJobSchema>;

/** The incident was marked resolved in Slack: the host updates its incident.json. */
export const markJobSchema = z.object({
  incidentId: z.string().regex(/^inc-[A-Za-z0-9._-]+$/),
  server: serverRef,
  status: z.enum(['resolved']),
  by: z.string(),
});
export type MarkJobData = z.infer<typeof markJobSchema>;

export const MARK_JOB = 'mark';

// Steps carry the live counters and deadline of StepProgress (src/contracts/progress.ts).
export const jobProgressSchema = z.object({
  incidentId: z.string(),
  server: z.string(),
  pipeline: z.string(),
  attempt: z.number().int(),
  steps: z.array(stepViewSchema),
  slack: slackTargetSchema.optional(),
});
export type JobProgress = z.infer<typeof jobProgressSchema>;

export const jobResultSchema = z.object({
  incidentId: z.string(),
  pipeline: z.string(),
  incidentDir: z.string(),
  problemClass: z.string().nullable(),
  files: z.array(z.string()),
});
export type JobResult = z.infer<typeof jobResultSchema>;

/** The lead's runPipeline, injected so tests and the CLI share exactly one implementation. */
export type PipelineRunner = (req: PipelineRequest, deps: PipelineDeps, signal: AbortSignal, onProgress: ProgressSink) => Promise<PipelineResult>;
