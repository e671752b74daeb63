/**
 * SGLang crash dumps and request dumps, as this tool sees them (reference: sglang-serving-api.md §4–6).
 *
 * On disk: a pickle of `{"server_args": ServerArgs | None, "requests": [...], "launch_command": str}`
 * (crash dump), the same without `launch_command` (request dump), or, from the earliest versions, the
 * bare list. Each record is `(GenerateReqInput, output_dict, created_time, finish_time)`; replay tools
 * take the creation time from `record[-2]`.
 */
import type { DecodeBudget, JsonValue, PickleValue } from '../pickle/index.js';

export type DumpKind = 'crash' | 'request' | 'bare-list';

/** One `(req, out, created, finished)` record as read, still as pickle values. */
export interface DumpRecord {
  file: string;
  /** Position in its file's `requests` list. */
  position: number;
  req: PickleValue;
  out: PickleValue;
  createdAt: number | null;
  finishedAt: number | null;
}

export interface LoadedDump {
  file: string;
  kind: DumpKind;
  protocol: number;
  bytes: number;
  serverArgs: PickleValue;
  launchCommand: string | null;
  records: DumpRecord[];
  /** Records that were not tuples of at least (req, out): counted, not guessed at. */
  skipped: number;
  /** The load's one allocation and time budget: every later decode of these values charges it. */
  budget: DecodeBudget;
}

/** Per-request line of a summary: enough to pick a trigger candidate without opening the dump. */
export interface RequestSummary {
  /** Position after sorting every record of the input by creation time (same as ReplayRequest.index). */
  index: number;
  file: string;
  /** The request id; a batch's ids joined with ",". */
  rid: string | null;
  createdAt: number | null;
  finishedAt: number | null;
  /** finishedAt − createdAt: run time for finished requests, time in flight for unfinished ones. */
  elapsedSeconds: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  /** "stop", "length", "abort: <message>", or null while unfinished. */
  finishReason: string | null;
  unfinished: boolean;
  stream: boolean;
  input: 'text' | 'input_ids' | 'batch' | 'input_embeds' | 'none';
  /** Characters of prompt text (UTF-8 bytes for very long prompts) or number of input ids. */
  inputSize: number;
  /** First 160 characters of the prompt, secrets redacted. */
  preview: string;
}

export interface DumpFileSummary {
  file: string;
  kind: DumpKind | null;
  protocol: number | null;
  bytes: number;
  requests: number;
  unfinished: number;
  /** Why the file could not be read, when it could not. */
  error?: string;
}

export interface DumpTopology {
  tp: number | null;
  dp: number | null;
  pp: number | null;
  ep: number | null;
}

export interface DumpSummary {
  /** 'mixed' when a folder held both kinds. */
  kind: DumpKind | 'mixed' | null;
  files: DumpFileSummary[];
  /** served_model_name, else model_path. */
  model: string | null;
  modelPath: string | null;
  topology: DumpTopology;
  /** host:port the server listened on. */
  endpoint: string | null;
  /** `launch_command` with secrets redacted (crash dumps of late 2025 on). */
  launchCommand: string | null;
  timeSpan: { start: string | null; end: string | null; seconds: number | null };
  counts: { requests: number; finished: number; unfinished: number; streaming: number; batch: number; skipped: number };
  /** rids (or "#index") of unfinished requests, newest first: in flight when the server went down. */
  triggerCandidates: string[];
  requests: RequestSummary[];
  /** ServerArgs fields with secrets redacted; null when the dump had `server_args = None`. */
  serverArgs: Record<string, JsonValue> | null;
  notes: string[];
}

/**
 * One request to replay, in `/generate` JSON form, as the dump loader produces it and the replay
 * engine (src/replay) consumes it. Defined here, below the engine, so the loader needs nothing above it.
 */
export interface ReplayRequest {
  /** Position in the dump after sorting by creation time. */
  index: number;
  rid?: string;
  /** Recorded creation time, epoch seconds. Replay keeps relative offsets between these. */
  createdAt: number;
  /** Recorded finish (or dump) time, epoch seconds, when known. */
  finishedAt?: number;
  /**
   * The POST /generate body, or a function that builds it: dumps build each body when its request
   * is sent, so the first request leaves without the whole dump decoded. The function may throw a
   * TriageError (the record is then recorded as a bad record, not sent).
   */
  body: Record<string, unknown> | (() => Record<string, unknown>);
  stream: boolean;
  recordedPromptTokens?: number;
  recordedCompletionTokens?: number;
  /** True when the dump had no output for it: the strongest trigger candidate. */
  unfinished: boolean;
}

declare module '../types.js' {
  interface EvidenceKinds {
    dump: DumpSummary;
  }
}
