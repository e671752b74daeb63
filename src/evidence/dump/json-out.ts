/**
 * A dump summary as JSON text, written piece by piece: the same document `JSON.stringify(summary,
 * null, 2)` gives, without ever holding it as one string (a summary of 100 000 rows is tens of MB,
 * and V8 strings stop at 512 MiB). Each piece goes through `write`, which may apply backpressure.
 */
import { writeFileAtomicStream } from '../../fsutil/atomic-write.js';
import type { Writable } from 'node:stream';
import type { DumpSummary } from './model.js';

export type WriteChunk = (chunk: string) => Promise<void>;

/** Pieces of about this many characters are handed to `write`. */
const CHUNK_CHARS = 256 * 1024;

export async function writeSummaryJson(summary: DumpSummary, write: WriteChunk): Promise<void> {
  let pending = '';
  const emit = async (text: string) => {
    pending += text;
    if (pending.length >= CHUNK_CHARS) {
      const out = pending;
      pending = '';
      await write(out);
    }
  };
  const keys = Object.keys(summary) as Array<keyof DumpSummary>;
  await emit('{\n');
  for (const [k, key] of keys.entries()) {
    const comma = k < keys.length - 1 ? ',' : '';
    if (key === 'requests' && summary.requests.length > 0) {
      await emit(`  "requests": [\n`);
      const rows = summary.requests;
      for (let i = 0; i < rows.length; i++) {
        await emit(`    ${indent(JSON.stringify(rows[i], null, 2), '    ')}${i < rows.length - 1 ? ',' : ''}\n`);
      }
      await emit(`  ]${comma}\n`);
      continue;
    }
    await emit(`  ${JSON.stringify(key)}: ${indent(JSON.stringify(summary[key], null, 2) ?? 'null', '  ')}${comma}\n`);
  }
  await emit('}\n');
  if (pending) await write(pending);
}

function indent(json: string, by: string): string {
  return json.includes('\n') ? json.replace(/\n/g, `\n${by}`) : json;
}

/** A WriteChunk for a Node stream that waits for 'drain' when the stream asks it to. */
export function streamWriter(stream: Writable): WriteChunk {
  return (chunk) =>
    new Promise<void>((resolve, reject) => {
      const ok = stream.write(chunk, (err) => (err ? reject(err) : undefined));
      if (ok) resolve();
      else stream.once('drain', resolve);
    });
}

/** Writes the summary to `file` streamed, through a fresh temporary file renamed over it (a link at `file` is replaced, never followed). */
export async function writeSummaryFile(summary: DumpSummary, file: string): Promise<void> {
  await writeFileAtomicStream(file, (write) => writeSummaryJson(summary, write));
}
