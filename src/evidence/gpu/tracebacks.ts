import { clipLine, rankLabelOfLine, startsLogRecord, type RankLabel } from './log-envelope.js';

/**
 * Python tracebacks inside a log, with the header line that introduced them
 * (`Scheduler hit an exception:`, `TokenizerManager hit an exception:` …) and the final exception line.
 */
export type ExceptionClass = 'cuda' | 'oom' | 'nccl' | 'cpu';

export interface PyTraceback {
  /** 1-based line of "Traceback (most recent call last):". */
  line: number;
  /** The log line just before, when it says who crashed. */
  header?: string;
  rank?: RankLabel;
  exceptionType: string;
  message: string;
  /** Innermost last, as Python prints them. */
  frames: Array<{ file: string; line: number; function: string }>;
  cls: ExceptionClass;
  /** Line of the exception message. */
  endLine: number;
}

const FRAME_RE = /^\s*File "(.+)", line (\d+), in (.+)$/;
const EXC_RE = /^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Failure|Fault)|[A-Za-z_][\w.]*\.[A-Z]\w*|Exception|KeyboardInterrupt|StopIteration|AssertionError)(?::\s?(.*))?$/;
const HEADER_RE = /(Scheduler hit an exception|TokenizerManager hit an exception|DetokenizerManager hit an exception|hit an exception|Exception in thread|Error in|Traceback from)/;

export function classifyException(type: string, message: string): ExceptionClass {
  const text = `${type}: ${message}`;
  if (/OutOfMemoryError|out of memory|CUBLAS_STATUS_ALLOC_FAILED|cudaErrorMemoryAllocation|Not enough memory|CUDA_ERROR_OUT_OF_MEMORY/i.test(text)) return 'oom';
  if (/NCCL|DistBackendError|ProcessGroupNCCL|ncclInternalError|ncclUnhandledCudaError|ncclSystemError|ncclRemoteError/i.test(text) && !/illegal memory access/i.test(text)) return 'nccl';
  if (/CUDA error|CUDA_ERROR|cudaError|AcceleratorError|Triton Error \[CUDA\]|illegal memory access|device-side assert|misaligned address|illegal instruction|unspecified launch failure|CUBLAS_STATUS_EXECUTION_FAILED|CUDNN_STATUS_EXECUTION_FAILED/i.test(text)) return 'cuda';
  return 'cpu';
}

/** Pure: every traceback in the text. */
export function findTracebacks(rawLines: readonly string[]): PyTraceback[] {
  const lines = rawLines.some((l) => l.length > 16 * 1024) ? rawLines.map(clipLine) : rawLines;
  const out: PyTraceback[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/Traceback \(most recent call last\):/.test(lines[i]!)) continue;
    const start = i;
    const frames: PyTraceback['frames'] = [];
    let j = i + 1;
    let exception: { type: string; message: string; line: number } | null = null;
    for (; j < lines.length && j < i + 2000; j++) {
      const raw = lines[j]!;
      // Strip a rank envelope some loggers repeat on every traceback line.
      const l = raw.replace(/^\s*\[rank\d+\]:\s?/, '');
      const f = FRAME_RE.exec(l);
      if (f?.[1] && f[2] && f[3]) {
        frames.push({ file: f[1], line: Number(f[2]), function: f[3].trim() });
        continue;
      }
      // Source lines, caret markers and blank lines between frames.
      if (/^\s/.test(l) || l.trim() === '') continue;
      const e = EXC_RE.exec(l.trim());
      if (e?.[1]) {
        exception = { type: e[1], message: (e[2] ?? '').trim(), line: j + 1 };
        // Multi-line messages (torch's CUDA error hints) continue until a blank line or a new record.
        for (let k = j + 1; k < lines.length && k < j + 12; k++) {
          const next = lines[k]!;
          if (!next.trim() || startsLogRecord(next) || /Traceback \(most recent call last\)|During handling|The above exception/.test(next)) break;
          if (exception.message.length < 600) exception.message += `\n${next.trim()}`;
        }
        break;
      }
      if (startsLogRecord(l)) break;
    }
    if (!exception) continue;
    const tb: PyTraceback = {
      line: start + 1,
      exceptionType: exception.type,
      message: exception.message,
      frames,
      cls: classifyException(exception.type, exception.message),
      endLine: exception.line,
    };
    const headerLine = findHeader(lines, start);
    if (headerLine) {
      tb.header = headerLine.trim();
      const rank = rankLabelOfLine(headerLine);
      if (rank) tb.rank = rank;
    }
    if (!tb.rank) {
      const rank = rankLabelOfLine(lines[start]!);
      if (rank) tb.rank = rank;
    }
    out.push(tb);
    i = j;
  }
  return out;
}

function findHeader(lines: readonly string[], start: number): string | null {
  // The header is usually the same line ("... Scheduler hit an exception: Traceback ...") or the one before.
  if (HEADER_RE.test(lines[start]!)) return lines[start]!;
  for (let k = start - 1; k >= 0 && k >= start - 2; k--) {
    const l = lines[k]!;
    if (HEADER_RE.test(l)) return l;
    if (l.trim()) break;
  }
  return null;
}

/** Does the traceback run through the scheduler's batch path (run_batch / process_batch_result / event loop)? */
export function inSchedulerPath(tb: PyTraceback): boolean {
  return /Scheduler hit an exception/.test(tb.header ?? '') || tb.frames.some((f) => /^(run_batch|process_batch_result\w*|event_loop_\w+|run_scheduler_process|forward_batch_generation)$/.test(f.function));
}
