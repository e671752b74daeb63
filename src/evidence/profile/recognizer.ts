import { constants, gunzipSync } from 'node:zlib';
import { isTriageError } from '../../errors.js';
import type { Recognizer, SniffedFile } from '../types.js';
import { isGzipHead, readTrace } from './read-trace.js';
import type { TraceSummary } from './trace-summary.js';

declare module '../types.js' {
  interface EvidenceKinds {
    'torch-trace': TraceSummary;
  }
}

/** Compressed bytes inflated for a sniff: deflate expands at most ~1032×, so the output stays a few MB. */
const SNIFF_GZIP_BYTES = 4096;

/**
 * The text a sniff looks at: the head itself, or for gzip the start of what it inflates to
 * (a truncated stream is fine: Z_SYNC_FLUSH returns what could be inflated).
 */
export function sniffText(file: SniffedFile): string {
  if (!isGzipHead(file.head)) return file.head;
  try {
    const bytes = Buffer.from(file.head.slice(0, SNIFF_GZIP_BYTES), 'latin1');
    return gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: 8 * 1024 * 1024 }).toString('utf8');
  } catch {
    return '';
  }
}

/** Event categories torch.profiler writes (Kineto's names); a generic Chrome trace has none of them. */
const TORCH_MARKERS = /"cat"\s*:\s*"(?:kernel|cpu_op|cuda_runtime|cuda_driver|user_annotation|gpu_user_annotation|gpu_memcpy|gpu_memset|python_function|ac2g)"|"deviceProperties"\s*:|"schemaVersion"\s*:/;

export function looksLikeTorchTrace(text: string): boolean {
  return /"traceEvents"\s*:\s*\[/.test(text) && TORCH_MARKERS.test(text);
}

const ms = (us: number): string => `${(us / 1000).toFixed(us >= 100_000 ? 0 : 1)} ms`;
const pct = (x: number): string => `${(x * 100).toFixed(x >= 0.1 ? 0 : 1)}%`;

export function describeTrace(t: TraceSummary): string {
  const parts = [`torch profiler trace: ${t.kernelCount} kernel launches, ${ms(t.kernelTimeUs)} kernel time over a ${ms(t.windowUs)} window`];
  if (t.dominantKernel) parts.push(`top kernel ${t.dominantKernel.name} ${pct(t.dominantKernel.share)}`);
  for (const d of t.devices) parts.push(`GPU ${d.device} busy ${pct(d.busyShare)} (idle ${ms(d.idleUs)})`);
  const range = t.ranges[0];
  if (range) parts.push(`longest range ${range.name} ${ms(Math.max(range.cpuUs, range.gpuUs))}`);
  if (!t.complete) parts.push('cut off before its end');
  return parts.join('; ');
}

export const torchTraceRecognizer: Recognizer<'torch-trace'> = {
  kind: 'torch-trace',
  sniff: (file) => file.size > 0 && looksLikeTorchTrace(sniffText(file)),
  async read(file, signal) {
    try {
      return await readTrace(file.path, { signal });
    } catch (err) {
      // The head looked like a trace but the whole file is not one: not this kind.
      if (isTriageError(err, 'E_BAD_INPUT')) return null;
      throw err;
    }
  },
  describe: describeTrace,
};
