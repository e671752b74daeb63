import { z } from 'zod';
import { PROBLEM_CLASSES, SKILLS, reportSchema, type Report } from '../contracts/report.js';

/**
 * The incident record kept in Redis: what Slack, the bot and every worker agree on. It outlives
 * bot and worker restarts; incident.json in the host's folder is the host's own copy of the facts.
 */
export const INCIDENT_STATUSES = ['open', 'investigating', 'mitigated', 'resolved', 'failed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/**
 * The lifecycle a person moves an incident through: open → investigating → mitigated → resolved.
 * `failed` is the machine's own state (the first capture failed for good) and needs a person
 * like `open` does; any later action moves it on.
 */
export const LIFECYCLE_STATES = ['open', 'investigating', 'mitigated', 'resolved'] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export const SEVERITIES = ['sev1', 'sev2', 'sev3', 'sev4'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Where the incident's newest job stands. */
export const JOB_STATES = ['queued', 'running', 'retrying', 'done', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TIMELINE_KINDS = ['created', 'joined', 'queued', 'step', 'retry', 'done', 'failed', 'resolved', 'slack', 'refused', 'state', 'owner', 'severity'] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

export const timelineEntrySchema = z.object({
  at: z.string(),
  kind: z.enum(TIMELINE_KINDS),
  text: z.string(),
  by: z.string().optional(),
  pipeline: z.string().optional(),
  step: z.string().optional(),
  state: z.enum(['started', 'done', 'failed', 'skipped']).optional(),
});
export type IncidentTimelineEntry = z.infer<typeof timelineEntrySchema>;

/** One pipeline step as the live status message shows it. */
export const stepViewSchema = z.object({
  step: z.string(),
  state: z.enum(['started', 'done', 'failed', 'skipped']),
  detail: z.string().optional(),
  at: z.string(),
  /** Live counters of a long step (a replay: sent, done, failed). */
  counters: z.record(z.string(), z.number()).optional(),
  /** When the step's deadline passes (ISO time). */
  deadline: z.string().optional(),
});
export type StepView = z.infer<typeof stepViewSchema>;

const jsonField = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

const optionalText = z
  .string()
  .transform((v) => (v ? v : undefined))
  .optional();

/** The summary whose buttons are live, kept so it can be redrawn without them once a newer one is posted. */
export const postedResultSchema = z.object({
  jobId: z.string(),
  ts: z.string(),
  pipeline: z.string(),
  /** Evidence fingerprint of the verdict shown: an equal one later is "no change". */
  fingerprint: z.string(),
  report: reportSchema,
});
export type PostedResult = z.infer<typeof postedResultSchema>;

/** How the Redis hash decodes (every field is a string there). */
export const incidentHashSchema = z.object({
  id: z.string(),
  server: z.string(),
  host: z.string(),
  channel: z.string(),
  createdBy: z.string(),
  status: z.enum(INCIDENT_STATUSES),
  pipeline: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  threadTs: optionalText,
  statusTs: optionalText,
  summaryTs: optionalText,
  jobId: optionalText,
  jobState: z.enum(JOB_STATES).optional(),
  attempt: z.coerce.number().int().optional(),
  problemClass: z.enum(PROBLEM_CLASSES).optional(),
  nextSkill: z.enum(SKILLS).optional(),
  incidentDir: optionalText,
  failure: optionalText,
  resolvedBy: optionalText,
  resolvedAt: optionalText,
  resolveReason: optionalText,
  owner: optionalText,
  severity: z.enum(SEVERITIES).optional(),
  /** Link to the incident's thread (chat.getPermalink of the root message). */
  permalink: optionalText,
  report: jsonField(reportSchema).optional(),
  /** The newest summary posted in the thread; its buttons are the live ones. */
  result: jsonField(postedResultSchema).optional(),
  /** Per pipeline: the evidence fingerprint of the verdict it produced ("Run next step" runs once). */
  ranOn: jsonField(z.record(z.string(), z.string())).optional(),
  steps: jsonField(z.array(stepViewSchema)).optional(),
  artifacts: jsonField(z.array(z.string())).optional(),
});

export type IncidentRecord = Omit<z.infer<typeof incidentHashSchema>, 'steps' | 'artifacts' | 'report' | 'result' | 'ranOn'> & {
  result?: PostedResult;
  ranOn?: Record<string, string>;
  steps: StepView[];
  artifacts: string[];
  report?: Report;
  timeline: IncidentTimelineEntry[];
};

/** Fields callers may set; JSON-valued ones are encoded by the store. */
export interface IncidentPatch {
  threadTs?: string;
  statusTs?: string;
  summaryTs?: string;
  status?: IncidentStatus;
  pipeline?: string;
  jobId?: string;
  jobState?: JobState;
  attempt?: number;
  problemClass?: Report['problemClass'];
  nextSkill?: Report['nextStep']['skill'];
  incidentDir?: string;
  failure?: string;
  resolvedBy?: string;
  resolvedAt?: string;
  resolveReason?: string;
  owner?: string;
  severity?: Severity;
  permalink?: string;
  report?: Report;
  result?: PostedResult;
  ranOn?: Record<string, string>;
  steps?: StepView[];
  artifacts?: string[];
}

export interface NewIncident {
  server: string;
  host: string;
  channel: string;
  createdBy: string;
  pipeline: string;
  /** The first responder (the person who opened it); alert-opened incidents start without one. */
  owner?: string;
  severity?: Severity;
}
