import { throwIfAborted } from '../../errors.js';
import { readTextBounded } from '../files.js';
import type { SniffedFile } from '../types.js';

/** Binary files (coredumps, tarballs, pickles) carry NUL bytes early; text tool output does not. */
export function looksLikeText(file: SniffedFile): boolean {
  if (file.size === 0) return false;
  const sample = file.head.slice(0, 8192);
  return !sample.includes('\u0000');
}

/** The recognizers' one I/O step: a bounded read of the whole file (head + tail when huge). */
export async function readEvidenceText(file: SniffedFile, signal: AbortSignal): Promise<string> {
  throwIfAborted(signal, `reading ${file.rel}`);
  const { text } = file.readText ? await file.readText(signal) : await readTextBounded(file.path, undefined, { signal });
  throwIfAborted(signal, `reading ${file.rel}`);
  return text;
}
