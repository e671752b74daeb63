/**
 * Summarises dumps for people and for the router: model, topology, endpoint, time span, redacted
 * launch command and server args, and one line per request. Unfinished requests were in flight when
 * the dump was written, so they are the strongest trigger candidates.
 */
import { describeError, isTriageError, throwIfAborted } from '../../errors.js';
import { redactText, redactValue } from '../../sglang/redact.js';
import { asNumber, asString, attr, pickleToJson, PyObject, type JsonValue, type PickleValue } from '../pickle/index.js';
import { listDumpFiles, loadDumpFile, sortRecords, type LoadOptions } from './load.js';
import type { DumpFileSummary, DumpSummary, LoadedDump, RequestSummary } from './model.js';
import { requestFacts } from './request.js';

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
      failed.push({ file, kind: null, protocol: null, bytes: 0, requests: 0, unfinished: 0, error: describeError(err) });
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
  const requests: RequestSummary[] = records.map((record, index) => {
    const facts = requestFacts(record.req, record.out);
    return {
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
      preview: facts.preview,
    };
  });

  const withArgs = dumps.find((d) => d.serverArgs !== null);
  const serverArgs = withArgs ? serverArgsJson(withArgs.serverArgs) : null;
  if (!withArgs) notes.push('server_args is None in every file (SGLang drops it when it cannot be pickled): model and topology unknown');
  const args = withArgs?.serverArgs ?? null;
  const launch = dumps.find((d) => d.launchCommand !== null)?.launchCommand ?? null;

  const kinds = new Set(dumps.map((d) => d.kind));
  const kind = kinds.size === 1 ? [...kinds][0]! : 'mixed';
  const unfinished = requests.filter((r) => r.unfinished);
  if (unfinished.length) {
    notes.push(`${unfinished.length} unfinished request(s): in flight when the dump was written, so the strongest trigger candidates; replay them first`);
  } else if (kind === 'crash') {
    notes.push('no unfinished requests: the crash hit between requests, or the dump holds only the last 5 minutes of finished ones');
  } else {
    notes.push('request dumps hold finished requests only: there is no in-flight trigger candidate in them');
  }
  const skipped = dumps.reduce((n, d) => n + d.skipped, 0);
  if (skipped) notes.push(`${skipped} record(s) were not (request, output, created, finished) tuples and were skipped`);

  const starts = requests.map((r) => r.createdAt).filter((t): t is number => t !== null);
  const ends = requests.map((r) => r.finishedAt ?? r.createdAt).filter((t): t is number => t !== null);
  // A loop rather than Math.min(...xs): a folder of dumps can hold more records than a call has arguments.
  const start = starts.reduce<number | null>((m, t) => (m === null || t < m ? t : m), null);
  const end = ends.reduce<number | null>((m, t) => (m === null || t > m ? t : m), null);

  return {
    kind,
    files: dumps.map((d) => ({
      file: d.file,
      kind: d.kind,
      protocol: d.protocol,
      bytes: d.bytes,
      requests: d.records.length,
      unfinished: requests.filter((r) => r.file === d.file && r.unfinished).length,
    })),
    model: asString(attr(args, 'served_model_name')) ?? asString(attr(args, 'model_path')) ?? null,
    modelPath: asString(attr(args, 'model_path')) ?? null,
    topology: { tp: int(args, 'tp_size'), dp: int(args, 'dp_size'), pp: int(args, 'pp_size'), ep: int(args, 'ep_size') },
    endpoint: endpointOf(args),
    launchCommand: launch === null ? null : redactText(launch),
    timeSpan: { start: iso(start), end: iso(end), seconds: start !== null && end !== null ? round3(end - start) : null },
    counts: {
      requests: requests.length,
      finished: requests.length - unfinished.length,
      unfinished: unfinished.length,
      streaming: requests.filter((r) => r.stream).length,
      batch: requests.filter((r) => r.input === 'batch').length,
      skipped,
    },
    triggerCandidates: [...unfinished].reverse().map((r) => r.rid ?? `#${r.index}`),
    requests,
    serverArgs,
    notes,
  };
}

function serverArgsJson(args: PickleValue): Record<string, JsonValue> | null {
  const json = pickleToJson(args, { records: 'fields', maxStringChars: 16 * 1024 * 1024 });
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { value: json };
  const out = redactValue(json);
  if (args instanceof PyObject) return { $class: args.className, ...out };
  return out;
}

function int(args: PickleValue, key: string): number | null {
  const n = asNumber(attr(args, key));
  return n === undefined ? null : n;
}

function endpointOf(args: PickleValue): string | null {
  const host = asString(attr(args, 'host'));
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
