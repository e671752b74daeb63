/**
 * Finding and reading dump files: one .pkl, or every .pkl under a folder (recursive, sorted), each
 * read with the bounded pickle reader and checked for the SGLang dump shape.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { TriageError, throwIfAborted } from '../../errors.js';
import type { ReplayRequest } from '../../replay/types.js';
import { listFiles } from '../files.js';
import { asNumber, asString, readPickleFile, sequenceItems, type PickleLimits, type PickleValue } from '../pickle/index.js';
import type { DumpKind, DumpRecord, LoadedDump } from './model.js';
import { requestFacts, toGenerateBody } from './request.js';

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
  const { value, protocol, inputBytes } = await readPickleFile(file, { signal: options.signal, limits: options.limits });
  return interpretDump(file, value, protocol, inputBytes);
}

/** Shapes a pickle value as a dump, or throws E_BAD_INPUT saying what the top level was instead. */
export function interpretDump(file: string, value: PickleValue, protocol: number, bytes: number): LoadedDump {
  let kind: DumpKind;
  let list: PickleValue[] | null;
  let serverArgs: PickleValue = null;
  let launchCommand: string | null = null;
  if (value instanceof Map && value.has('requests')) {
    list = sequenceItems(value.get('requests'));
    serverArgs = value.get('server_args') ?? null;
    const launch = value.get('launch_command');
    launchCommand = asString(launch) ?? null;
    kind = value.has('launch_command') ? 'crash' : 'request';
  } else {
    list = Array.isArray(value) ? value : null;
    kind = 'bare-list';
  }
  if (list === null) {
    const what = value instanceof Map ? `a dict without "requests" (keys: ${[...value.keys()].slice(0, 5).map(String).join(', ')})` : describeTop(value);
    throw new TriageError('E_BAD_INPUT', `${file} is a pickle but not an SGLang dump: its top level is ${what}`, { details: NOT_A_DUMP });
  }
  const records: DumpRecord[] = [];
  let skipped = 0;
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
  return { file, kind, protocol, bytes, serverArgs, launchCommand, records, skipped };
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

/**
 * Every record of the input, sorted by creation time (ties keep file order), as ReplayRequest.
 * Used by the replay engine; `index` is the position after sorting.
 */
export async function loadReplayRequests(input: string, opts: { signal: AbortSignal }): Promise<{ requests: ReplayRequest[]; files: string[] }> {
  const { files, dumps } = await loadDumps(path.resolve(input), { signal: opts.signal });
  const records = sortRecords(dumps.flatMap((d) => d.records));
  const requests: ReplayRequest[] = records.map((record, index) => {
    if (index % 256 === 0) throwIfAborted(opts.signal, 'dump read');
    const facts = requestFacts(record.req, record.out);
    const request: ReplayRequest = {
      index,
      createdAt: record.createdAt ?? 0,
      body: toGenerateBody(record.req),
      stream: facts.stream,
      unfinished: facts.unfinished,
    };
    if (facts.rid !== null) request.rid = facts.rid;
    if (record.finishedAt !== null) request.finishedAt = record.finishedAt;
    if (facts.promptTokens !== null) request.recordedPromptTokens = facts.promptTokens;
    if (facts.completionTokens !== null) request.recordedCompletionTokens = facts.completionTokens;
    return request;
  });
  return { requests, files };
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
