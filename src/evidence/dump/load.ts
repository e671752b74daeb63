/**
 * Finding and reading dump files: one .pkl, or every .pkl under a folder (recursive, sorted), each
 * read with the bounded pickle reader and checked for the SGLang dump shape.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { describeError, isTriageError, TriageError, throwIfAborted } from '../../errors.js';
import { redactText } from '../../sglang/redact.js';
import { listFiles } from '../files.js';
import { asNumber, DecodeBudget, readPickleFile, sequenceItems, type PickleLimits, type PickleValue } from '../pickle/index.js';
import type { DumpKind, DumpRecord, LoadedDump, ReplayRequest } from './model.js';
import { boundedText, measureGenerateBody, requestFacts, toGenerateBody } from './request.js';

/** Longest launch command kept (they run to a few KB; a hostile one may be any size). */
const MAX_LAUNCH_COMMAND_CHARS = 64 * 1024;

/** `details` of the error for a readable pickle that is not a dump (the recognizer then declines it). */
export const NOT_A_DUMP = { notADump: true } as const;

export interface LoadOptions {
  signal: AbortSignal;
  limits?: Partial<PickleLimits>;
}

/** The dump files an input names: the file itself, or every *.pkl under a folder in path order. */
export async function listDumpFiles(input: string): Promise<string[]> {
  const info = await stat(input).catch((err: unknown) => {
    throw new TriageError('E_NOT_FOUND', `no such file or folder: ${input}`, { cause: err });
  });
  if (info.isFile()) return [input];
  if (!info.isDirectory()) throw new TriageError('E_NOT_FOUND', `${input} is neither a file nor a folder`);
  const files = (await listFiles(input, { maxFiles: 100_000 })).filter((f) => f.toLowerCase().endsWith('.pkl')).sort();
  if (files.length === 0) throw new TriageError('E_NOT_FOUND', `no *.pkl files under ${input}`);
  return files;
}

/** Reads one dump file. Throws E_BAD_INPUT when it is a pickle but not an SGLang dump. */
export async function loadDumpFile(file: string, options: LoadOptions): Promise<LoadedDump> {
  const { value, protocol, inputBytes, budget } = await readPickleFile(file, { signal: options.signal, ...(options.limits ? { limits: options.limits } : {}) });
  return interpretDump(file, value, protocol, inputBytes, budget);
}

/** Shapes a pickle value as a dump, or throws E_BAD_INPUT saying what the top level was instead. */
export function interpretDump(
  file: string,
  value: PickleValue,
  protocol: number,
  bytes: number,
  budget: DecodeBudget = new DecodeBudget({ maxBytes: Math.max(16 * bytes, 256 * 1024 * 1024), maxTimeMs: 120_000 }),
): LoadedDump {
  let kind: DumpKind;
  let list: PickleValue[] | null;
  let serverArgs: PickleValue = null;
  let launchCommand: string | null = null;
  if (value instanceof Map && value.has('requests')) {
    list = sequenceItems(value.get('requests'));
    serverArgs = value.get('server_args') ?? null;
    launchCommand = boundedText(value.get('launch_command'), MAX_LAUNCH_COMMAND_CHARS) ?? null;
    kind = value.has('launch_command') ? 'crash' : 'request';
  } else {
    list = Array.isArray(value) ? value : null;
    kind = 'bare-list';
  }
  if (list === null) {
    const what = value instanceof Map ? `a dict without "requests" (keys: ${[...value.keys()].slice(0, 5).map((k) => (typeof k === 'string' ? boundedText(k, 64) : String(describeTop(k)))).join(', ')})` : describeTop(value);
    throw new TriageError('E_BAD_INPUT', `${file} is a pickle but not an SGLang dump: its top level is ${what}`, { details: NOT_A_DUMP });
  }
  const records: DumpRecord[] = [];
  let skipped = 0;
  budget.charge(64 * list.length, `${list.length} dump records`);
  list.forEach((item, position) => {
    const parts = sequenceItems(item);
    if (!parts || parts.length < 2) {
      skipped++;
      return;
    }
    const n = parts.length;
    records.push({
      file,
      position,
      req: parts[0]!,
      out: parts[1]!,
      createdAt: n >= 4 ? finite(parts[n - 2]) : null,
      finishedAt: n >= 4 ? finite(parts[n - 1]) : null,
    });
  });
  if (kind === 'bare-list' && records.length === 0 && list.length > 0) {
    throw new TriageError('E_BAD_INPUT', `${file} is a pickle of a list, but not of (request, output, created, finished) records`, { details: NOT_A_DUMP });
  }
  return { file, kind, protocol, bytes, serverArgs, launchCommand, records, skipped, budget };
}

/** Reads every dump an input names, in file order. */
export async function loadDumps(input: string, options: LoadOptions): Promise<{ files: string[]; dumps: LoadedDump[] }> {
  const files = await listDumpFiles(input);
  const dumps: LoadedDump[] = [];
  for (const file of files) {
    throwIfAborted(options.signal, 'dump read');
    dumps.push(await loadDumpFile(file, options));
  }
  return { files, dumps };
}

export interface ReplayLoad {
  requests: ReplayRequest[];
  files: string[];
  /** Records that could not become a request (not a tuple, no request object, a body past its bounds): counted, not fatal. */
  skipped: number;
  /** Why records were skipped (the first few), secrets redacted. */
  notes: string[];
}

/**
 * Every record of the input, sorted by creation time (ties keep file order), as ReplayRequest.
 * Used by the replay engine; `index` is the position after sorting.
 *
 * Bodies are built when each request is sent, not here: decoding every prompt up front would hold
 * the whole dump as JS strings before the first request could leave (docs/pickle-evaluation.md).
 * What each body will cost is charged to its dump's budget now, so a memo bomb ends the load with
 * E_LIMIT before anything is sent. One malformed record is skipped and counted.
 */
export async function loadReplayRequests(input: string, opts: { signal: AbortSignal; limits?: Partial<PickleLimits> }): Promise<ReplayLoad> {
  const { files, dumps } = await loadDumps(path.resolve(input), { signal: opts.signal, ...(opts.limits ? { limits: opts.limits } : {}) });
  return { files, ...replayRequestsOf(dumps, opts.signal) };
}

/** The replay requests of dumps already read (see loadReplayRequests). */
export function replayRequestsOf(dumps: LoadedDump[], signal: AbortSignal): Omit<ReplayLoad, 'files'> {
  const opts = { signal };
  const budgets = new Map(dumps.map((d) => [d.file, d.budget]));
  const records = sortRecords(dumps.flatMap((d) => d.records));
  let skipped = dumps.reduce((n, d) => n + d.skipped, 0);
  const notes: string[] = [];
  if (skipped) notes.push(`${skipped} record(s) were not (request, output, created, finished) tuples`);
  const requests: ReplayRequest[] = [];
  for (const record of records) {
    if (requests.length % 256 === 0) throwIfAborted(opts.signal, 'dump read');
    const budget = budgets.get(record.file)!;
    const what = `the body of record ${record.position} of ${path.basename(record.file)}`;
    let cost: number;
    let facts: ReturnType<typeof requestFacts>;
    try {
      facts = requestFacts(record.req, record.out, { preview: false });
      cost = measureGenerateBody(record.req, budget, what);
    } catch (err) {
      // The load's own budget running out is the load failing (a memo bomb); anything else is this record.
      if (!isTriageError(err) || isBudgetError(err)) throw err;
      skipped++;
      if (notes.length < 5) notes.push(redactText(`skipped record ${record.position} of ${path.basename(record.file)}: ${describeError(err)}`));
      continue;
    }
    const req = record.req;
    const request: ReplayRequest = {
      index: requests.length,
      createdAt: record.createdAt ?? 0,
      // Its own small budget: the bytes were charged to the load's budget just above.
      body: () => toGenerateBody(req, { budget: new DecodeBudget({ maxBytes: 2 * cost + 1024 * 1024, maxTimeMs: 60_000, subject: what }), what }),
      stream: facts.stream,
      unfinished: facts.unfinished,
    };
    if (facts.rid !== null) request.rid = facts.rid;
    if (record.finishedAt !== null) request.finishedAt = record.finishedAt;
    if (facts.promptTokens !== null) request.recordedPromptTokens = facts.promptTokens;
    if (facts.completionTokens !== null) request.recordedCompletionTokens = facts.completionTokens;
    requests.push(request);
  }
  if (skipped > notes.length && notes.length >= 5) notes.push(`${skipped} record(s) skipped in all`);
  return { requests, skipped, notes };
}

function isBudgetError(err: TriageError): boolean {
  return err.code === 'E_LIMIT' && (err.details.limit === 'allocation' || err.details.limit === 'time');
}

/** Creation-time order, as every replay tool sorts (`record[-2]`); records without a time go last. */
export function sortRecords(records: DumpRecord[]): DumpRecord[] {
  return records
    .map((record, order) => ({ record, order }))
    .sort((a, b) => (a.record.createdAt ?? Infinity) - (b.record.createdAt ?? Infinity) || a.order - b.order)
    .map((x) => x.record);
}

function finite(value: PickleValue | undefined): number | null {
  const n = asNumber(value);
  return n !== undefined && Number.isFinite(n) ? n : null;
}

function describeTop(value: PickleValue): string {
  if (value === null) return 'None';
  if (typeof value !== 'object') return `a ${typeof value}`;
  return `a ${value.constructor.name}`;
}
