import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { TriageError, throwIfAborted } from '../../errors.js';
import { DEFAULT_SCANNER_LIMITS, TraceEventScanner, type ScannerLimits } from './trace-scanner.js';
import { DEFAULT_SUMMARY_LIMITS, TraceAggregator, type SummaryLimits, type TraceSummary } from './trace-summary.js';

export interface ReadTraceOptions {
  signal: AbortSignal;
  scanner?: ScannerLimits;
  summary?: SummaryLimits;
}

const TOP_LEVEL_MEMBERS = new Set(['deviceProperties', 'distributedInfo']);
const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

export function isGzipHead(head: Uint8Array | string): boolean {
  if (typeof head === 'string') return head.charCodeAt(0) === GZIP_MAGIC_0 && head.charCodeAt(1) === GZIP_MAGIC_1;
  return head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
}

/**
 * Streams a torch.profiler Chrome trace (`.json` or gzip, told apart by magic bytes) and summarises
 * GPU time by kernel, GPU busy versus idle, and time by record_function range. Memory stays bounded
 * whatever the file's size (one pending event, capped name tables, a capped interval union).
 *
 * A file cut off mid-write gives the summary of what was read, with `complete: false`. A file that is
 * not a trace (no `traceEvents` array, or neither a JSON object nor array) is E_BAD_INPUT.
 */
export async function readTrace(file: string, options: ReadTraceOptions): Promise<TraceSummary> {
  const { signal } = options;
  throwIfAborted(signal, `reading trace ${file}`);
  const gz = await fileIsGzip(file);
  const agg = new TraceAggregator(options.summary ?? DEFAULT_SUMMARY_LIMITS);
  const scanner = new TraceEventScanner(
    { event: (text) => agg.addEventText(text), member: (key, text) => agg.addMemberText(key, text) },
    (key) => TOP_LEVEL_MEMBERS.has(key),
    options.scanner ?? DEFAULT_SCANNER_LIMITS,
  );
  const decoder = new StringDecoder('utf8');
  let cutOff = false;
  const consume = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) {
      // Past the root's end only whitespace is expected; read it to the end so the pipeline closes cleanly.
      if (!scanner.state.complete) scanner.write(decoder.write(chunk));
    }
  };
  try {
    const stages = gz ? [createReadStream(file, { highWaterMark: 1 << 20 }), createGunzip({ chunkSize: 1 << 20 })] : [createReadStream(file, { highWaterMark: 1 << 20 })];
    await (pipeline as (...args: unknown[]) => Promise<void>)(...stages, consume, { signal });
  } catch (err) {
    if (signal.aborted) throw new TriageError('E_ABORTED', `reading trace ${file} aborted`, { cause: signal.reason });
    const code = (err as { code?: unknown }).code;
    // A gzip stream that ends early (profiler killed mid-write): keep what was read.
    if (gz && (code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR') && scanner.state.sawTraceEvents) cutOff = true;
    else if (code === 'ENOENT') throw new TriageError('E_NOT_FOUND', `no such trace file: ${file}`, { cause: err });
    else if (code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR') throw new TriageError('E_BAD_INPUT', `${file}: not a readable gzip trace (${(err as Error).message})`, { cause: err });
    else throw new TriageError('E_IO', `reading trace ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!scanner.state.complete) scanner.write(decoder.end());
  if (scanner.state.rootKind === null || !scanner.state.sawTraceEvents) {
    throw new TriageError('E_BAD_INPUT', `${file}: not a Chrome trace (no traceEvents array)`, { details: { file } });
  }
  return agg.summary({ complete: scanner.state.complete && !cutOff, oversized: scanner.state.oversized });
}

async function fileIsGzip(file: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw new TriageError('E_NOT_FOUND', `no such trace file: ${file}`, { cause: err });
  }
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await handle.read(buf, 0, 2, 0);
    return bytesRead === 2 && isGzipHead(buf);
  } finally {
    await handle.close();
  }
}
