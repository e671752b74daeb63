/**
 * replay.json (the replay's evidence file, `<incident>/replay/replay.json`) and the human summary.
 * `artifact_type: "replay"` is the content marker `triage route` recognises the file by.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { TriageError } from '../errors.js';
import { incidentPaths } from '../incident/layout.js';
import { round, type ReplayRun, type RequestResult, type ResolvedOptions } from './engine.js';
import { OUTCOME_KINDS, type OutcomeKind, type StopReason } from './outcome.js';
import { decide, describeOutcome, type Reproduced, type TriggerRequest, type VsRecorded } from './reproduce.js';
import { writeFileAtomic } from '../fsutil/atomic-write.js';

export const REPLAY_ARTIFACT_TYPE = 'replay';
export const REPLAY_SCHEMA_VERSION = 1;

export interface Percentiles {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export interface ReplayTotals {
  planned: number;
  sent: number;
  answered: number;
  outcomes: Record<OutcomeKind, number>;
  /** The scheduler's own start error (actual − ready), ms. */
  startErrorMs: Percentiles;
  /** Requests the --parallel cap held back, and by how much (ms). */
  capDelayed: { count: number; p50Ms: number | null; maxMs: number | null };
  ttftMs: Percentiles;
  e2eMs: Percentiles;
  /** Per-request inter-token gap p50s summarised (p50 of p50s), and the worst gap seen. */
  interTokenGapMs: { requests: number; p50: number | null; max: number | null };
  promptTokens: number;
  completionTokens: number;
  vsRecorded: VsRecorded | null;
}

export interface ReplayDocument {
  artifact_type: typeof REPLAY_ARTIFACT_TYPE;
  schemaVersion: typeof REPLAY_SCHEMA_VERSION;
  tool: string;
  target: string;
  options: Omit<ResolvedOptions, 'target'>;
  /** `skipped`: dump records that could not become requests (malformed), counted, not replayed. */
  input: { source: string | null; files: string[]; skipped?: number };
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Replay stopped sending early: Ctrl-C ('signal'), the target stopped answering or died. */
  stopped: { reason: StopReason; atMs: number } | null;
  targetHungAtMs: number | null;
  serverDiedAtMs: number | null;
  lastAnswerBeforeDeathMs: number | null;
  reproduced: Reproduced;
  reproducedWhy: string;
  trigger: TriggerRequest | null;
  totals: ReplayTotals;
  requests: RequestResult[];
}

export function percentiles(values: readonly number[]): Percentiles {
  if (!values.length) return { count: 0, p50: null, p99: null, max: null };
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => round(s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!);
  return { count: s.length, p50: at(0.5), p99: at(0.99), max: round(s[s.length - 1]!) };
}

export function computeTotals(results: readonly RequestResult[], vsRecorded: VsRecorded | null): ReplayTotals {
  const outcomes = Object.fromEntries(OUTCOME_KINDS.map((k) => [k, 0])) as Record<OutcomeKind, number>;
  for (const r of results) outcomes[r.outcome.kind]++;
  const sent = results.filter((r) => r.actualStartMs !== null);
  const delayed = sent.filter((r) => (r.capDelayMs ?? 0) > 0).map((r) => r.capDelayMs!);
  const dp = percentiles(delayed);
  const ok = results.filter((r) => r.outcome.kind === 'ok');
  const gapReqs = results.filter((r) => r.gaps !== null);
  const gapP50 = percentiles(gapReqs.map((r) => r.gaps!.p50Ms));
  return {
    planned: results.length,
    sent: sent.length,
    answered: results.filter((r) => r.status !== null).length,
    outcomes,
    startErrorMs: percentiles(sent.map((r) => r.startErrorMs!)),
    capDelayed: { count: dp.count, p50Ms: dp.p50, maxMs: dp.max },
    ttftMs: percentiles(ok.filter((r) => r.ttftMs !== null).map((r) => r.ttftMs!)),
    e2eMs: percentiles(ok.filter((r) => r.e2eMs !== null).map((r) => r.e2eMs!)),
    interTokenGapMs: {
      requests: gapReqs.length,
      p50: gapP50.p50,
      max: gapReqs.length ? round(gapReqs.reduce((m, r) => Math.max(m, r.gaps!.maxMs), 0)) : null,
    },
    promptTokens: results.reduce((n, r) => n + (r.promptTokens ?? 0), 0),
    completionTokens: results.reduce((n, r) => n + (r.completionTokens ?? 0), 0),
    vsRecorded,
  };
}

export function buildDocument(run: ReplayRun, input: { source?: string; files?: string[]; skipped?: number } = {}): ReplayDocument {
  const verdict = decide(run);
  const { target, ...options } = run.options;
  return {
    artifact_type: REPLAY_ARTIFACT_TYPE,
    schemaVersion: REPLAY_SCHEMA_VERSION,
    tool: 'sglang-triage replay',
    target,
    options,
    input: { source: input.source ?? null, files: input.files ?? [], ...(input.skipped ? { skipped: input.skipped } : {}) },
    startedAt: new Date(run.startedAtWall).toISOString(),
    finishedAt: new Date(run.finishedAtWall).toISOString(),
    durationMs: run.durationMs,
    stopped: run.stopped,
    targetHungAtMs: run.hungAtMs,
    serverDiedAtMs: run.diedAtMs,
    lastAnswerBeforeDeathMs: run.lastAnswerAtMs,
    reproduced: verdict.reproduced,
    reproducedWhy: verdict.why,
    trigger: verdict.trigger,
    totals: computeTotals(run.results, verdict.vsRecorded),
    requests: run.results,
  };
}

/** Writes `<incidentDir>/replay/replay.json` (via a temp file and rename); returns its path. */
export async function writeReplayJson(incidentDir: string, doc: ReplayDocument): Promise<string> {
  const file = incidentPaths(incidentDir).replayJson;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, `${JSON.stringify(doc, null, 2)}\n`);
  } catch (err) {
    throw new TriageError('E_IO', `cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`, { cause: err });
  }
  return file;
}

/** The compact summary printed for --json and used by the human summary. */
export function summaryOf(doc: ReplayDocument, file: string | null) {
  return {
    replayJson: file,
    target: doc.target,
    reproduced: doc.reproduced,
    reproducedWhy: doc.reproducedWhy,
    trigger: doc.trigger,
    stopped: doc.stopped,
    durationMs: doc.durationMs,
    totals: doc.totals,
  };
}

const ms = (v: number | null) => (v === null ? '-' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);

export function humanSummary(doc: ReplayDocument, file: string | null): string[] {
  const t = doc.totals;
  const counts = OUTCOME_KINDS.filter((k) => t.outcomes[k] > 0)
    .map((k) => `${k} ${t.outcomes[k]}`)
    .join(', ');
  const lines = [
    `replay of ${t.planned} request(s) on ${doc.target} in ${ms(doc.durationMs)}: ${counts || 'nothing to send'}`,
    `reproduced: ${String(doc.reproduced)} (${doc.reproducedWhy})`,
  ];
  if (doc.trigger) {
    const tr = doc.trigger;
    lines.push(
      `trigger: idx ${tr.idx}${tr.rid ? ` rid ${tr.rid}` : ''}${tr.promptTokens !== null ? `, ${tr.promptTokens} prompt tokens` : ''}${tr.textPreview ? `, text ${tr.textPreview}` : ''} (${tr.why})`,
    );
  }
  if (doc.stopped) lines.push(`stopped sending at +${ms(doc.stopped.atMs)}: ${doc.stopped.reason}`);
  lines.push(
    `start error p50 ${ms(t.startErrorMs.p50)} p99 ${ms(t.startErrorMs.p99)} max ${ms(t.startErrorMs.max)}` +
      (t.capDelayed.count ? `; ${t.capDelayed.count} held back by --parallel ${doc.options.parallel} (max ${ms(t.capDelayed.maxMs)})` : ''),
  );
  if (t.ttftMs.count) lines.push(`TTFT p50 ${ms(t.ttftMs.p50)} p99 ${ms(t.ttftMs.p99)} max ${ms(t.ttftMs.max)}`);
  if (t.e2eMs.count) lines.push(`e2e p50 ${ms(t.e2eMs.p50)} p99 ${ms(t.e2eMs.p99)} max ${ms(t.e2eMs.max)}`);
  if (t.interTokenGapMs.requests) lines.push(`inter-token gap p50 ${ms(t.interTokenGapMs.p50)} max ${ms(t.interTokenGapMs.max)}`);
  if (t.vsRecorded) {
    lines.push(`vs recorded: median e2e ${ms(t.vsRecorded.replayMedianMs)} vs ${ms(t.vsRecorded.recordedMedianMs)} recorded (${t.vsRecorded.medianRatio}x, ${t.vsRecorded.compared} compared)`);
  }
  const firstBad = doc.requests.find((r) => r.outcome.kind !== 'ok' && r.outcome.kind !== 'not-sent');
  if (firstBad) lines.push(`first failure: idx ${firstBad.idx}: ${describeOutcome(firstBad.outcome)}`);
  if (file) lines.push(`wrote ${file}`);
  return lines;
}
