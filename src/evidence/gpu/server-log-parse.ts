import { KNOWN_PRODUCER_PATTERNS } from './kernel-names.js';
import { rankLabelOfLine, splitLogLines, type RankLabel } from './log-envelope.js';
import { findTracebacks, type PyTraceback } from './tracebacks.js';

/** SGLang server logs (reference §7), and any process output that carries the same lines. */
export interface LogRef {
  /** 1-based. */
  line: number;
  text: string;
  rank?: RankLabel;
}

export interface BatchLine {
  kind: 'prefill' | 'decode';
  line: number;
  rank?: RankLabel;
  newSeq?: number;
  newToken?: number;
  cachedToken?: number;
  runningReq?: number;
  queueReq?: number;
  tokenUsage?: number;
}

export type CudaErrorKind = 'illegal-address' | 'device-assert' | 'launch-failure' | 'misaligned' | 'illegal-instruction' | 'ecc' | 'other';
export interface CudaErrorLine extends LogRef {
  kind: CudaErrorKind;
  message: string;
}
export interface DeviceAssert extends LogRef {
  file?: string;
  function?: string;
  condition: string;
  block?: string;
  thread?: string;
}
export interface OomLine extends LogRef {
  triedToAllocate?: string;
  gpu?: number;
  capacity?: string;
  free?: string;
  /** KV-pool sizing at start-up ("Not enough memory. Please try to increase --mem-fraction-static"). */
  startup: boolean;
}
export interface CrashDumpLine {
  line: number;
  finished: number;
  unfinished: number;
  path: string;
}
export interface WatchdogLine extends LogRef {
  who: 'scheduler' | 'tokenizer' | 'other';
  timeoutS?: number;
  soft?: boolean;
}
export interface NcclWatchdogLine extends LogRef {
  torchRank?: number;
  seqNum?: number;
  opType?: string;
  numelIn?: number;
  numelOut?: number;
  timeoutMs?: number;
  ranForMs?: number;
  lastEnqueued?: number;
  lastCompleted?: number;
}
export interface XidLine extends LogRef {
  pci: string;
  code: number;
  detail: string;
}

export interface ServerLog {
  ranks: string[];
  /** The last 200 batch lines (the last ones before an incident are what matters). */
  batches: BatchLine[];
  batchCount: number;
  cudaErrors: CudaErrorLine[];
  deviceAsserts: DeviceAssert[];
  oom: OomLine[];
  tracebacks: PyTraceback[];
  crashDumps: CrashDumpLine[];
  watchdogTimeouts: WatchdogLine[];
  healthCheckFailures: LogRef[];
  ncclErrors: LogRef[];
  ncclWatchdog: NcclWatchdogLine[];
  xids: XidLine[];
  /** SIGQUIT from a child, a subprocess that crashed, a child that exited. */
  childFailures: LogRef[];
  /** CUDA coredump notes: late attach refused, user coredump triggered / not enabled. */
  coredumpNotes: LogRef[];
  /** Kernel names that could be an upstream producer (e.g. a routing top-k kernel), wherever they appear. */
  kernelMentions: Array<{ name: string; line: number }>;
  ready: boolean;
  lineCount: number;
}

const CAP = 200;
const BATCH_RE = /\b(Prefill|Decode) batch(?:\s*\[\d+\])?[.,]\s*(.*)$/;
/**
 * `<file>:<line>: <kernel function>: block: [x,y,z], thread: [x,y,z] Assertion `<cond>` failed.`, anywhere in
 * the line. Matched in two linear steps (head before the first `: block: [`, then the tail) rather than
 * one regex with lazy groups, which is quadratic on long lines full of `a:1: `.
 */
const ASSERT_HEAD_RE = /(?:^|\s)(\S+?):(\d+): (.+)$/;
const ASSERT_TAIL_RE = /^: block: \[(\d+,\s*\d+,\s*\d+)\], thread: \[(\d+,\s*\d+,\s*\d+)\] Assertion `(.+)` failed\.?/;

function deviceAssertOf(raw: string): { file: string; function: string; block: string; thread: string; condition: string } | null {
  if (!raw.includes('Assertion')) return null;
  const at = raw.indexOf(': block: [');
  if (at <= 0) return null;
  const head = ASSERT_HEAD_RE.exec(raw.slice(0, at));
  const tail = ASSERT_TAIL_RE.exec(raw.slice(at));
  if (!head?.[1] || !head[3] || !tail?.[1] || !tail[2] || !tail[3]) return null;
  return { file: head[1], function: head[3], block: `(${tail[1].replace(/\s/g, '')})`, thread: `(${tail[2].replace(/\s/g, '')})`, condition: tail[3] };
}
const OOM_RE = /OutOfMemoryError|CUDA out of memory|CUDA error: out of memory|CUBLAS_STATUS_ALLOC_FAILED|cudaErrorMemoryAllocation|CUDA_ERROR_OUT_OF_MEMORY|Not enough memory\. Please try to increase --mem-fraction-static/;
const XID_RE = /NVRM: Xid \(PCI:([0-9a-fA-F:.]+)\): (\d+),\s*(.*)$/;
const NCCL_ERROR_RE = /NCCL error|ncclInternalError|ncclUnhandledCudaError|ncclSystemError|ncclRemoteError|ncclInvalidUsage|NCCL communicator was aborted|NCCL WARN|DistBackendError/;
const MENTION_RES = KNOWN_PRODUCER_PATTERNS.map((p) => new RegExp(`\\b\\w*(?:${p.source})\\w*\\b`, 'i'));

function batchField(kv: string, key: string): number | undefined {
  const m = new RegExp(`${key.replace(/[.*+?^${}()|[\]\\#]/g, '\\$&')}:\\s*(-?[\\d.]+)`).exec(kv);
  return m?.[1] ? Number(m[1]) : undefined;
}

function cudaErrorOf(untrimmed: string): { kind: CudaErrorKind; message: string } | null {
  // trimEnd first: `(.+?)\s*$` is quadratic on long runs of trailing spaces.
  const line = untrimmed.trimEnd();
  if (/^\s*(Search for|For debugging consider|Compile with|CUDA kernel errors might be)/.test(line)) return null;
  const m =
    /CUDA error: (.+)$/.exec(line) ??
    /Triton Error \[CUDA\]: (.+)$/.exec(line) ??
    /Program hit (cudaError\w+)(?: \(error \d+\))?(?: due to "([^"]+)")?/.exec(line) ??
    /Cuda failure '([^']+)'/.exec(line) ??
    /\b(CUDA_ERROR_(?!OUT_OF_MEMORY)[A-Z_]+)\b/.exec(line) ??
    /(an illegal memory access was encountered|device-side assert triggered|unspecified launch failure|misaligned address|an illegal instruction was encountered|uncorrectable ECC error encountered)/.exec(line);
  if (!m?.[1]) return null;
  const message = (m[2] ?? m[1]).trim();
  if (/out of memory/i.test(message)) return null;
  const kind: CudaErrorKind = /illegal memory access|ILLEGAL_ADDRESS|IllegalAddress/i.test(message)
    ? 'illegal-address'
    : /device-side assert|ASSERT|cudaErrorAssert/i.test(message)
      ? 'device-assert'
      : /launch failure|LAUNCH_FAILED|LaunchFailure/i.test(message)
        ? 'launch-failure'
        : /misaligned|MISALIGNED/i.test(message)
          ? 'misaligned'
          : /illegal instruction|ILLEGAL_INSTRUCTION/i.test(message)
            ? 'illegal-instruction'
            : /ECC/i.test(message)
              ? 'ecc'
              : 'other';
  return { kind, message };
}

/** Pure. */
export function parseServerLog(text: string): ServerLog {
  const lines = splitLogLines(text);
  const log: ServerLog = {
    ranks: [],
    batches: [],
    batchCount: 0,
    cudaErrors: [],
    deviceAsserts: [],
    oom: [],
    tracebacks: findTracebacks(lines),
    crashDumps: [],
    watchdogTimeouts: [],
    healthCheckFailures: [],
    ncclErrors: [],
    ncclWatchdog: [],
    xids: [],
    childFailures: [],
    coredumpNotes: [],
    kernelMentions: [],
    ready: false,
    lineCount: lines.length,
  };
  const ranks = new Set<string>();
  const push = <T>(list: T[], item: T): void => {
    if (list.length < CAP) list.push(item);
  };

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (!raw.trim()) continue;
    const line = i + 1;
    const rank = rankLabelOfLine(raw);
    if (rank) ranks.add(rank.label);
    const ref = (extra: object = {}): LogRef => ({ line, text: raw.trim().slice(0, 500), ...(rank ? { rank } : {}), ...extra });

    const batch = BATCH_RE.exec(raw);
    if (batch?.[1] && batch[2] !== undefined) {
      const kv = batch[2];
      const b: BatchLine = { kind: batch[1] === 'Prefill' ? 'prefill' : 'decode', line };
      if (rank) b.rank = rank;
      const fields: Array<[keyof BatchLine, string]> = [
        ['newSeq', '#new-seq'],
        ['newToken', '#new-token'],
        ['cachedToken', '#cached-token'],
        ['runningReq', '#running-req'],
        ['queueReq', '#queue-req'],
        ['tokenUsage', 'token usage'],
      ];
      for (const [k, key] of fields) {
        const v = batchField(kv, key);
        if (v !== undefined) (b as unknown as Record<string, number>)[k] = v;
      }
      log.batchCount++;
      log.batches.push(b);
      if (log.batches.length > CAP) log.batches.shift();
      continue;
    }
    if (/The server is fired up and ready to roll!/.test(raw)) log.ready = true;

    const xid = XID_RE.exec(raw);
    if (xid?.[1] && xid[2]) {
      push(log.xids, { ...ref(), pci: xid[1], code: Number(xid[2]), detail: (xid[3] ?? '').trim() });
      continue;
    }
    const dumped = /Dumped (\d+) finished and (\d+) unfinished requests before crash to (\S+)/.exec(raw);
    if (dumped?.[1] && dumped[2] && dumped[3]) {
      push(log.crashDumps, { line, finished: Number(dumped[1]), unfinished: Number(dumped[2]), path: dumped[3] });
      continue;
    }
    const wd = /(Scheduler watchdog timeout|TokenizerManager watchdog timeout|Watchdog timeout|watchdog timeout) \(([^)]*)\)/.exec(raw);
    if (wd?.[1] && !/WorkNCCL/.test(raw)) {
      const w: WatchdogLine = { ...ref(), who: /Scheduler|^Watchdog/.test(wd[1]) ? 'scheduler' : /Tokenizer/.test(wd[1]) ? 'tokenizer' : 'other' };
      const t = /watchdog_timeout=(\d+(?:\.\d+)?)/.exec(wd[2] ?? '');
      if (t?.[1]) w.timeoutS = Number(t[1]);
      const soft = /soft=(True|False)/.exec(wd[2] ?? '');
      if (soft?.[1]) w.soft = soft[1] === 'True';
      push(log.watchdogTimeouts, w);
      continue;
    }
    const torchWd = /Watchdog caught collective operation timeout: WorkNCCL\(SeqNum=(\d+), OpType=(\w+)(?:, NumelIn=(\d+), NumelOut=(\d+))?, Timeout\(ms\)=(\d+)\) ran for (\d+) milliseconds/.exec(raw);
    const lastWork = /last enqueued NCCL work: (-?\d+), last completed NCCL work: (-?\d+)/.exec(raw);
    if (torchWd || lastWork) {
      const w: NcclWatchdogLine = ref();
      const r = /\[(?:PG [^\]]*?)?Rank (\d+)\]/.exec(raw) ?? /\[rank(\d+)\]/.exec(raw);
      if (r?.[1]) w.torchRank = Number(r[1]);
      if (torchWd) {
        w.seqNum = Number(torchWd[1]);
        w.opType = torchWd[2]!;
        if (torchWd[3]) w.numelIn = Number(torchWd[3]);
        if (torchWd[4]) w.numelOut = Number(torchWd[4]);
        w.timeoutMs = Number(torchWd[5]);
        w.ranForMs = Number(torchWd[6]);
      }
      if (lastWork) {
        w.lastEnqueued = Number(lastWork[1]);
        w.lastCompleted = Number(lastWork[2]);
      }
      push(log.ncclWatchdog, w);
      continue;
    }
    if (OOM_RE.test(raw)) {
      const o: OomLine = { ...ref(), startup: /Not enough memory/.test(raw) };
      const tried = /Tried to allocate ([\d.]+ \w+)/.exec(raw);
      if (tried?.[1]) o.triedToAllocate = tried[1];
      const gpu = /GPU (\d+) has a total capacity of ([\d.]+ \w+) of which ([\d.]+ \w+) is free/.exec(raw);
      if (gpu?.[1]) {
        o.gpu = Number(gpu[1]);
        o.capacity = gpu[2]!;
        o.free = gpu[3]!;
      }
      push(log.oom, o);
      continue;
    }
    const assert = deviceAssertOf(raw);
    if (assert) {
      push(log.deviceAsserts, { ...ref(), ...assert });
      continue;
    }
    if (/^\s*={5,}/.test(raw) && !/Program hit/.test(raw)) continue; // compute-sanitizer banner lines are its own evidence
    const cuda = cudaErrorOf(raw);
    if (cuda) {
      push(log.cudaErrors, { ...ref(), ...cuda });
      if (!NCCL_ERROR_RE.test(raw)) continue;
    }
    if (NCCL_ERROR_RE.test(raw)) {
      push(log.ncclErrors, ref());
      continue;
    }
    if (/Health check failed/.test(raw)) {
      push(log.healthCheckFailures, ref());
      continue;
    }
    if (/Received sigquit from a child|SIGQUIT received|Subprocess \S+ \(pid=\d+\) crashed with exit code|Child process unexpectedly failed with exitcode/.test(raw)) {
      push(log.childFailures, ref());
      continue;
    }
    if (/CUDA coredump is not supported with late attach|Triggered CUDA user coredump|CUDA user-triggered coredump is not enabled|CUDA coredump pipe not found|has no reader/.test(raw)) {
      push(log.coredumpNotes, ref());
      continue;
    }
    for (const re of MENTION_RES) {
      const m = re.exec(raw);
      if (m && log.kernelMentions.length < 50) log.kernelMentions.push({ name: m[0], line });
    }
  }
  log.ranks = [...ranks].sort();
  return log;
}

/** Anything an incident router cares about. */
export function hasIncidentContent(log: ServerLog): boolean {
  return Boolean(
    log.batchCount ||
      log.cudaErrors.length ||
      log.deviceAsserts.length ||
      log.oom.length ||
      log.tracebacks.length ||
      log.crashDumps.length ||
      log.watchdogTimeouts.length ||
      log.healthCheckFailures.length ||
      log.ncclErrors.length ||
      log.ncclWatchdog.length ||
      log.xids.length ||
      log.childFailures.length ||
      log.coredumpNotes.length ||
      log.kernelMentions.length ||
      log.ready,
  );
}
