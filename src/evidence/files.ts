import { constants } from 'node:fs';
import { open, readdir, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { TriageError, throwIfAborted } from '../errors.js';

export const HEAD_BYTES = 64 * 1024;

/**
 * Opens a file for reading only if it is a regular file: O_NOFOLLOW refuses a symlink, O_NONBLOCK keeps
 * a FIFO from blocking the open (a FIFO named health.txt must never hang triage), and fstat rejects
 * FIFOs, sockets and devices before a byte is read.
 */
export async function openRegularFile(file: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TriageError(code === 'ENOENT' ? 'E_NOT_FOUND' : 'E_IO', code === 'ELOOP' ? `${file} is a symbolic link; not followed` : `cannot open ${file}`, { cause: err });
  }
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw new TriageError('E_IO', `${file} is not a regular file; not read`);
  }
  return handle;
}

/** Reads at most `maxBytes` from the start of a regular file. */
export async function readHead(file: string, maxBytes = HEAD_BYTES): Promise<Buffer> {
  const handle = await openRegularFile(file);
  try {
    const buf = Buffer.alloc(maxBytes);
    const { bytesRead } = await handle.read(buf, 0, maxBytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The first `maxBytes` of a regular file and its size, with one open. */
export async function readHeadAndSize(file: string, maxBytes = HEAD_BYTES): Promise<{ head: Buffer; size: number }> {
  const handle = await openRegularFile(file);
  try {
    const size = (await handle.stat()).size;
    const buf = Buffer.alloc(Math.min(maxBytes, size));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return { head: buf.subarray(0, bytesRead), size };
  } finally {
    await handle.close();
  }
}

export interface BoundedText {
  text: string;
  truncated: boolean;
  /** For the report's `checked`: what of a big file was read whole, what was scanned, where a scan stopped. */
  note?: string;
}

export interface ReadTextOptions {
  /** Bytes of the middle of a big file scanned line by line for incident lines (default 4 GiB). */
  middleScanBytes?: number;
  signal?: AbortSignal;
}

const MIDDLE_CHUNK = 8 * 1024 * 1024;
const MIDDLE_KEEP_BYTES = 8 * 1024 * 1024;
const MIDDLE_CONTEXT_LINES = 40;
const MIDDLE_LINE_CHARS = 4096;
/**
 * Substrings of the lines worth keeping from the middle of a huge log: errors, tracebacks, CUDA/NCCL/driver
 * lines, watchdogs, crash-dump lines, OOM, signals, failed health checks. Literal alternatives only (linear),
 * run over the latin1 view of each chunk, whose string offsets are byte offsets.
 */
const INCIDENT_MARKS = /rror|xception|raceback|CUDA|NCCL|atchdog|Xid|coredump|Dumped |ssert|SIG[A-Z]|rashed|ailed|emory|imeout|Killed/g;
const NL = 10;

/**
 * Reads a text file for parsing. Logs can be many GB: past `maxBytes` we keep the first quarter and the
 * last three quarters of the budget whole (start-up facts at the start, the incident usually at the end),
 * and scan the middle line by line, keeping incident lines with a few lines of context after each, so a
 * crash halfway through a 2 GB log is still seen. Marker lines say what was skipped and where a scan stopped.
 */
export async function readTextBounded(file: string, maxBytes = 32 * 1024 * 1024, options: ReadTextOptions = {}): Promise<BoundedText> {
  const handle = await openRegularFile(file);
  try {
    const size = (await handle.stat()).size;
    if (size <= maxBytes) {
      const buf = Buffer.alloc(size);
      const { bytesRead } = await handle.read(buf, 0, size, 0);
      return { text: buf.subarray(0, bytesRead).toString('utf8'), truncated: false };
    }
    const headLen = Math.floor(maxBytes / 4);
    const tailLen = maxBytes - headLen;
    const head = Buffer.alloc(headLen);
    const tail = Buffer.alloc(tailLen);
    await handle.read(head, 0, headLen, 0);
    await handle.read(tail, 0, tailLen, size - tailLen);
    const middle = await scanMiddle(handle, headLen, size - tailLen, options);
    const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    const scanned = middle.stoppedAt >= size - tailLen ? `scanned all ${mb(middle.stoppedAt - headLen)} of the middle` : `scanned the middle from byte ${headLen} and STOPPED at byte ${middle.stoppedAt} of ${size} (${middle.why}); bytes ${middle.stoppedAt}–${size - tailLen} were not read`;
    const note = `${mb(size)}: read the first ${mb(headLen)} and the last ${mb(tailLen)} whole; ${scanned}, keeping ${middle.kept} incident line(s)`;
    const marker = (s: string): string => `\n[... triage: ${s} ...]\n`;
    const text = `${head.toString('utf8')}${marker(`${note}; kept middle lines follow`)}${middle.lines.join('\n')}${marker('end of kept middle lines; the last part of the file follows')}${tail.toString('utf8')}`;
    return { text, truncated: true, note };
  } finally {
    await handle.close();
  }
}

async function scanMiddle(handle: FileHandle, from: number, to: number, options: ReadTextOptions): Promise<{ lines: string[]; kept: number; stoppedAt: number; why: string }> {
  const budget = options.middleScanBytes ?? 4 * 1024 * 1024 * 1024;
  const end = Math.min(to, from + budget);
  const lines: string[] = [];
  let keptBytes = 0;
  let pos = from;
  const buf = Buffer.alloc(MIDDLE_CHUNK);
  while (pos < end) {
    if (options.signal?.aborted) return { lines, kept: lines.length, stoppedAt: pos, why: 'aborted' };
    if (keptBytes >= MIDDLE_KEEP_BYTES) return { lines, kept: lines.length, stoppedAt: pos, why: `kept ${MIDDLE_KEEP_BYTES} bytes of lines already` };
    const { bytesRead } = await handle.read(buf, 0, Math.min(MIDDLE_CHUNK, end - pos), pos);
    if (bytesRead === 0) break;
    // Cut the chunk at its last newline so no line is split (an endless line is taken as one).
    const lastNl = buf.lastIndexOf(NL, bytesRead - 1);
    const len = lastNl >= 0 && pos + bytesRead < end ? lastNl + 1 : bytesRead;
    const view = buf.subarray(0, len);
    const text = view.toString('latin1');
    INCIDENT_MARKS.lastIndex = 0;
    for (let m = INCIDENT_MARKS.exec(text); m && keptBytes < MIDDLE_KEEP_BYTES; m = INCIDENT_MARKS.exec(text)) {
      let at = text.lastIndexOf('\n', m.index) + 1;
      for (let n = 0; n <= MIDDLE_CONTEXT_LINES && at < len; n++) {
        const eol = text.indexOf('\n', at);
        const stop = eol < 0 ? len : eol;
        const line = view.toString('utf8', at, Math.min(stop, at + MIDDLE_LINE_CHARS));
        lines.push(line);
        keptBytes += line.length + 1;
        at = stop + 1;
      }
      INCIDENT_MARKS.lastIndex = at;
    }
    pos += len;
  }
  if (pos < to) return { lines, kept: lines.length, stoppedAt: pos, why: `middle-scan budget of ${budget} bytes` };
  return { lines, kept: lines.length, stoppedAt: to, why: '' };
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

/** One entry of a folder walk: what it is, by the directory's own type field (never by following it). */
export interface WalkEntry {
  path: string;
  /** Relative to the walk root, forward slashes. */
  rel: string;
  type: 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'device' | 'other';
}

export interface WalkResult {
  dirs: WalkEntry[];
  files: WalkEntry[];
  /** Symlinks, FIFOs, sockets and devices: listed, never opened. */
  special: WalkEntry[];
  /** Folders below the depth limit, not entered. */
  tooDeep: string[];
  /** The entry budget ran out: the walk stopped at this folder. */
  stoppedAt?: string;
}

/** Walks a folder tree without following links; sorted, bounded by depth and by entries seen. */
export async function walkFolder(root: string, o: { maxDepth: number; maxEntries: number; signal: AbortSignal }): Promise<WalkResult> {
  const out: WalkResult = { dirs: [], files: [], special: [], tooDeep: [] };
  let left = o.maxEntries;
  const rel = (p: string): string => path.relative(root, p).split(path.sep).join('/');
  const walk = async (dir: string, depth: number): Promise<void> => {
    throwIfAborted(o.signal, 'scan');
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (dir === root) throw new TriageError('E_NOT_FOUND', `cannot read folder ${dir}`, { cause: err });
      out.special.push({ path: dir, rel: rel(dir), type: 'other' });
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (out.stoppedAt) return;
      if (--left < 0) {
        out.stoppedAt = rel(dir) || '.';
        return;
      }
      const full = path.join(dir, e.name);
      const type: WalkEntry['type'] = e.isFile() ? 'file' : e.isDirectory() ? 'dir' : e.isSymbolicLink() ? 'symlink' : e.isFIFO() ? 'fifo' : e.isSocket() ? 'socket' : e.isBlockDevice() || e.isCharacterDevice() ? 'device' : 'other';
      const entry: WalkEntry = { path: full, rel: rel(full), type };
      if (type === 'file') out.files.push(entry);
      else if (type === 'dir') {
        if (depth >= o.maxDepth) out.tooDeep.push(entry.rel);
        else {
          out.dirs.push(entry);
          await walk(full, depth + 1);
        }
      } else out.special.push(entry);
    }
  };
  await walk(root, 0);
  return out;
}
