/**
 * Recognizer for replay.json written by `triage replay` (src/replay/report.ts), by CONTENT: a JSON
 * object whose `artifact_type` is "replay", whatever the file is called or wherever it lies.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Recognizer, SniffedFile } from './types.js';

const MARKER = /"artifact_type"\s*:\s*"replay"/;
const MAX_BYTES = 128 * 1024 * 1024;

const num = z.number().nullable().catch(null);

const triggerSchema = z
  .object({
    idx: z.number(),
    rid: z.string().nullable().catch(null),
    promptTokens: num,
    textPreview: z.string().nullable().catch(null),
    promptChars: num.optional(),
    unfinishedInDump: z.boolean().catch(false),
    outcome: z.string().catch('unknown'),
    why: z.string().catch(''),
  })
  .nullable()
  .catch(null);

const percentiles = z.object({ count: z.number(), p50: num, p99: num, max: num }).nullable().catch(null);

const docSchema = z.object({
  artifact_type: z.literal('replay'),
  target: z.string(),
  options: z
    .object({ parallel: z.number().catch(0), speed: z.number().catch(1), timeoutMs: z.number().catch(0), ignoreEos: z.boolean().catch(false) })
    .catch({ parallel: 0, speed: 1, timeoutMs: 0, ignoreEos: false }),
  startedAt: z.string().catch(''),
  finishedAt: z.string().catch(''),
  stopped: z.object({ reason: z.string(), atMs: z.number() }).nullable().catch(null),
  targetHungAtMs: num.default(null),
  serverDiedAtMs: num.default(null),
  reproduced: z.union([z.boolean(), z.string()]),
  reproducedWhy: z.string().catch(''),
  trigger: triggerSchema.default(null),
  totals: z.object({
    planned: z.number(),
    sent: z.number(),
    outcomes: z.record(z.string(), z.number()).catch({}),
    ttftMs: percentiles.default(null),
    e2eMs: percentiles.default(null),
    vsRecorded: z
      .object({ compared: z.number(), medianRatio: z.number(), recordedMedianMs: z.number(), replayMedianMs: z.number() })
      .nullable()
      .catch(null)
      .default(null),
  }),
  requests: z
    .array(z.object({ idx: z.number(), outcome: z.object({ kind: z.string() }).passthrough() }).passthrough())
    .catch([]),
});

export interface ReplayEvidence {
  target: string;
  parallel: number;
  speed: number;
  timeoutMs: number;
  startedAt: string;
  finishedAt: string;
  stopped: { reason: string; atMs: number } | null;
  targetHungAtMs: number | null;
  serverDiedAtMs: number | null;
  reproduced: boolean | string;
  reproducedWhy: string;
  trigger: z.infer<typeof triggerSchema>;
  planned: number;
  sent: number;
  outcomes: Record<string, number>;
  ttftMs: z.infer<typeof percentiles>;
  e2eMs: z.infer<typeof percentiles>;
  vsRecorded: { compared: number; medianRatio: number; recordedMedianMs: number; replayMedianMs: number } | null;
  /** The first non-ok requests (at most 20): idx and outcome kind. */
  failures: Array<{ idx: number; kind: string }>;
}

declare module './types.js' {
  interface EvidenceKinds {
    replay: ReplayEvidence;
  }
}

export function parseReplayJson(text: string): ReplayEvidence | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = docSchema.safeParse(raw);
  if (!parsed.success) return null;
  const d = parsed.data;
  return {
    target: d.target,
    parallel: d.options.parallel,
    speed: d.options.speed,
    timeoutMs: d.options.timeoutMs,
    startedAt: d.startedAt,
    finishedAt: d.finishedAt,
    stopped: d.stopped,
    targetHungAtMs: d.targetHungAtMs,
    serverDiedAtMs: d.serverDiedAtMs,
    reproduced: d.reproduced,
    reproducedWhy: d.reproducedWhy,
    trigger: d.trigger,
    planned: d.totals.planned,
    sent: d.totals.sent,
    outcomes: d.totals.outcomes,
    ttftMs: d.totals.ttftMs,
    e2eMs: d.totals.e2eMs,
    vsRecorded: d.totals.vsRecorded,
    failures: d.requests
      .filter((r) => r.outcome.kind !== 'ok' && r.outcome.kind !== 'not-sent')
      .slice(0, 20)
      .map((r) => ({ idx: r.idx, kind: r.outcome.kind })),
  };
}

export const replayRecognizer: Recognizer<'replay'> = {
  kind: 'replay',
  sniff(file: SniffedFile): boolean {
    return file.size <= MAX_BYTES && file.head.trimStart().startsWith('{') && MARKER.test(file.head);
  },
  async read(file: SniffedFile): Promise<ReplayEvidence | null> {
    return parseReplayJson(await readFile(file.path, 'utf8'));
  },
  describe(d: ReplayEvidence): string {
    const failed = Object.entries(d.outcomes)
      .filter(([k, n]) => k !== 'ok' && n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    return `replay of ${d.planned} request(s) on ${d.target}: reproduced=${String(d.reproduced)}${failed ? ` (${failed})` : ''}`;
  },
};
