/**
 * Summarises dumps for people and for the router: model, topology, endpoint, time span, redacted
 * launch command and server args, and one line per request. Unfinished requests were in flight when
 * the dump was written, so they are the strongest trigger candidates.
 */
import { describeError, isTriageError, throwIfAborted } from '../../errors.js';
import { redactText } from '../../sglang/redact.js';
import { asNumber, attr, pickleToJson, PyObject, type DecodeBudget, type JsonCut, type JsonValue, type PickleValue } from '../pickle/index.js';
import { listDumpFiles, loadDumpFile, sortRecords, type LoadOptions } from './load.js';
import type { DumpFileSummary, DumpSummary, LoadedDump, RequestSummary } from './model.js';
import { memoRedactor, redactJson } from './redact-json.js';
import { boundedText, requestFacts, requestPreview } from './request.js';

/**
 * Rows kept in `requests` (every unfinished one first, then the earliest finished ones): a summary
 * is read by people and by the router, and a dump of millions of records would make a JSON document
 * past what one string can hold. The counts always cover every record.
 */
export const MAX_SUMMARY_ROWS = 100_000;
/** Trigger candidates listed (newest first). */
const MAX_TRIGGER_CANDIDATES = 1000;
/**
 * Bounds of server_args in a summary: a real ServerArgs is a flat dataclass of a few hundred
 * fields; deeper or larger is cut where the bound is reached, and the cut is noted.
 */
const SERVER_ARGS_LIMITS = { maxDepth: 32, maxNodes: 50_000, maxStringChars: 2 * 1024 * 1024 };
/** Longest model name or path kept. */
const MAX_NAME_CHARS = 1024;

/**
 * Reads every dump an input names and summarises them together. A file that fails to read is listed
 * with its error; only when no file could be read does this throw (the first file's error).
 */
export async function summarizeInput(input: string, options: LoadOptions): Promise<DumpSummary> {
  const files = await listDumpFiles(input);
  const dumps: LoadedDump[] = [];
  const failed: DumpFileSummary[] = [];
  let firstError: unknown = null;
  for (const file of files) {
    throwIfAborted(options.signal, 'dump read');
    try {
      dumps.push(await loadDumpFile(file, options));
    } catch (err) {
      if (!isTriageError(err, 'E_BAD_INPUT') && !isTriageError(err, 'E_LIMIT')) throw err;
      firstError ??= err;
      failed.push({ file: redactText(file), kind: null, protocol: null, bytes: 0, requests: 0, unfinished: 0, error: redactText(describeError(err)) });
    }
  }
  if (dumps.length === 0) throw firstError;
  const summary = summarizeDumps(dumps);
  summary.files.push(...failed);
  summary.files.sort((a, b) => a.file.localeCompare(b.file));
  if (failed.length) summary.notes.push(`${failed.length} of ${files.length} files could not be read; see files[].error`);
  return summary;
}

export function summarizeDumps(dumps: LoadedDump[]): DumpSummary {
  const notes: string[] = [];
  const records = sortRecords(dumps.flatMap((d) => d.records));
  const budgets = new Map(dumps.map((d) => [d.file, d.budget]));
  const redact = memoRedactor();

  // One pass: counts over every record; rows only for the ones a summary keeps (MAX_SUMMARY_ROWS).
  const counts = { requests: records.length, finished: 0, unfinished: 0, streaming: 0, batch: 0, skipped: 0 };
  const unfinishedByFile = new Map<string, number>();
  const unfinishedRows: RequestSummary[] = [];
  const finishedRows: RequestSummary[] = [];
  const newestUnfinished: string[] = [];
  let start: number | null = null;
  let end: number | null = null;
  records.forEach((record, index) => {
    const facts = requestFacts(record.req, record.out, { preview: false });
    if (facts.unfinished) {
      counts.unfinished++;
      unfinishedByFile.set(record.file, (unfinishedByFile.get(record.file) ?? 0) + 1);
      newestUnfinished.push(facts.label ?? `#${index}`);
      if (newestUnfinished.length > 2 * MAX_TRIGGER_CANDIDATES) newestUnfinished.splice(0, MAX_TRIGGER_CANDIDATES);
    } else counts.finished++;
    if (facts.stream) counts.streaming++;
    if (facts.input === 'batch') counts.batch++;
    if (record.createdAt !== null && (start === null || record.createdAt < start)) start = record.createdAt;
    const last = record.finishedAt ?? record.createdAt;
    if (last !== null && (end === null || last > end)) end = last;
    const keep = facts.unfinished ? unfinishedRows : finishedRows;
    if (keep.length >= MAX_SUMMARY_ROWS) return;
    budgets.get(record.file)?.charge(512, `the summary rows of ${records.length} records`);
    keep.push({
      index,
      file: record.file,
      rid: facts.label,
      createdAt: record.createdAt,
      finishedAt: record.finishedAt,
      elapsedSeconds: record.createdAt !== null && record.finishedAt !== null ? round3(record.finishedAt - record.createdAt) : null,
      promptTokens: facts.promptTokens,
      completionTokens: facts.completionTokens,
      finishReason: facts.finishReason,
      unfinished: facts.unfinished,
      stream: facts.stream,
      input: facts.input,
      inputSize: facts.inputSize,
      preview: '',
    });
  });
  // Every unfinished row first (the trigger candidates), then the earliest finished ones, in creation order.
  const rows = [...unfinishedRows, ...finishedRows.slice(0, Math.max(0, MAX_SUMMARY_ROWS - unfinishedRows.length))].sort((x, y) => x.index - y.index);
  for (const row of rows) {
    row.preview = requestPreview(records[row.index]!.req);
    row.file = redact(row.file);
    if (row.rid !== null) row.rid = redact(row.rid);
  }

  const withArgs = dumps.find((d) => d.serverArgs !== null);
  const cuts: JsonCut[] = [];
  const serverArgs = withArgs ? serverArgsJson(withArgs.serverArgs, withArgs.budget, cuts) : null;
  for (const cut of cuts.slice(0, 3)) notes.push(`server_args cut at ${cut.path || 'the top'}: ${cut.why} (the rest of that value is left out)`);
  if (!withArgs) notes.push('server_args is None in every file (SGLang drops it when it cannot be pickled): model and topology unknown');
  const args = withArgs?.serverArgs ?? null;
  const launch = dumps.find((d) => d.launchCommand !== null)?.launchCommand ?? null;

  const kinds = new Set(dumps.map((d) => d.kind));
  const kind = kinds.size === 1 ? [...kinds][0]! : 'mixed';
  if (counts.unfinished) {
    notes.push(`${counts.unfinished} unfinished request(s): in flight when the dump was written, so the strongest trigger candidates; replay them first`);
  } else if (kind === 'crash') {
    notes.push('no unfinished requests: the crash hit between requests, or the dump holds only the last 5 minutes of finished ones');
  } else {
    notes.push('request dumps hold finished requests only: there is no in-flight trigger candidate in them');
  }
  counts.skipped = dumps.reduce((n, d) => n + d.skipped, 0);
  if (counts.skipped) notes.push(`${counts.skipped} record(s) were not (request, output, created, finished) tuples and were skipped`);
  if (rows.length < records.length) {
    notes.push(`requests lists ${rows.length} of ${records.length} records (every unfinished one, then the earliest); the counts cover them all`);
  }
  if (counts.unfinished > MAX_TRIGGER_CANDIDATES) notes.push(`triggerCandidates lists the newest ${MAX_TRIGGER_CANDIDATES} of ${counts.unfinished} unfinished requests`);
  const name = (key: string) => {
    const text = boundedText(attr(args, key), MAX_NAME_CHARS);
    return text === undefined ? undefined : redact(text);
  };
  const startAt = start as number | null;
  const endAt = end as number | null;

  return {
    kind,
    files: dumps.map((d) => ({
      file: redact(d.file),
      kind: d.kind,
      protocol: d.protocol,
      bytes: d.bytes,
      requests: d.records.length,
      unfinished: unfinishedByFile.get(d.file) ?? 0,
    })),
    model: name('served_model_name') ?? name('model_path') ?? null,
    modelPath: name('model_path') ?? null,
    topology: { tp: int(args, 'tp_size'), dp: int(args, 'dp_size'), pp: int(args, 'pp_size'), ep: int(args, 'ep_size') },
    endpoint: nullable(endpointOf(args), redact),
    launchCommand: launch === null ? null : redact(launch),
    timeSpan: { start: iso(startAt), end: iso(endAt), seconds: startAt !== null && endAt !== null ? round3(endAt - startAt) : null },
    counts,
    triggerCandidates: newestUnfinished.slice(-MAX_TRIGGER_CANDIDATES).reverse().map(redact),
    requests: rows,
    serverArgs,
    notes: notes.map(redact),
  };
}

/** server_args as JSON, cut where it passes SERVER_ARGS_LIMITS (cuts reported), secrets redacted. */
function serverArgsJson(args: PickleValue, budget: DecodeBudget, cuts: JsonCut[]): Record<string, JsonValue> | null {
  const json = redactJson(pickleToJson(args, { records: 'fields', ...SERVER_ARGS_LIMITS, onLimit: 'cut', cuts, budget, what: 'server_args' }));
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { value: json };
  const out: Record<string, JsonValue> = Object.create(null);
  if (args instanceof PyObject) out.$class = args.className;
  for (const key of Object.keys(json)) out[key] = json[key]!;
  return out;
}

function int(args: PickleValue, key: string): number | null {
  const n = asNumber(attr(args, key));
  return n === undefined ? null : n;
}

function endpointOf(args: PickleValue): string | null {
  const host = boundedText(attr(args, 'host'), 256);
  const port = asNumber(attr(args, 'port'));
  if (host === undefined && port === undefined) return null;
  const h = host ?? '?';
  return `${h.includes(':') ? `[${h}]` : h}:${port ?? '?'}`;
}

function iso(seconds: number | null): string | null {
  if (seconds === null) return null;
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function nullable(value: string | null, map: (s: string) => string): string | null {
  return value === null ? null : map(value);
}
