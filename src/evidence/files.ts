import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { TriageError } from '../errors.js';

export const HEAD_BYTES = 64 * 1024;

/** Reads at most `maxBytes` from the start of a file. */
export async function readHead(file: string, maxBytes = HEAD_BYTES): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(maxBytes);
    const { bytesRead } = await handle.read(buf, 0, maxBytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Reads a text file for parsing. Logs can be many GB: past `maxBytes` we keep the first quarter and
 * the last three quarters of the budget (the incident is usually at the end; start-up facts at the start),
 * joined by one marker line.
 */
export async function readTextBounded(file: string, maxBytes = 32 * 1024 * 1024): Promise<{ text: string; truncated: boolean }> {
  const info = await stat(file);
  if (info.size <= maxBytes) {
    const handle = await open(file, 'r');
    try {
      const buf = Buffer.alloc(info.size);
      await handle.read(buf, 0, info.size, 0);
      return { text: buf.toString('utf8'), truncated: false };
    } finally {
      await handle.close();
    }
  }
  const headLen = Math.floor(maxBytes / 4);
  const tailLen = maxBytes - headLen;
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(headLen);
    const tail = Buffer.alloc(tailLen);
    await handle.read(head, 0, headLen, 0);
    await handle.read(tail, 0, tailLen, info.size - tailLen);
    const skipped = info.size - maxBytes;
    return { text: `${head.toString('utf8')}\n[... ${skipped} bytes skipped by triage ...]\n${tail.toString('utf8')}`, truncated: true };
  } finally {
    await handle.close();
  }
}

/** Lists regular files under `root`, depth-first, skipping symlinks (an incident folder must not lead us elsewhere). */
export async function listFiles(root: string, options: { maxFiles?: number; maxDepth?: number } = {}): Promise<string[]> {
  const maxFiles = options.maxFiles ?? 5000;
  const maxDepth = options.maxDepth ?? 8;
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > maxDepth || out.length >= maxFiles) return;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw new TriageError('E_NOT_FOUND', `cannot read folder ${dir}`, { cause: err });
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (out.length >= maxFiles) return;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full, depth + 1);
      else if (entry.isFile()) out.push(full);
    }
  };
  await walk(root, 0);
  return out;
}
