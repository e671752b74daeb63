import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { TriageError, throwIfAborted } from '../errors.js';
import { HEAD_BYTES, openRegularFile, readHeadAndSize, readTextBounded, walkFolder, type BoundedText, type WalkEntry } from './files.js';
import { Evidence, type EvidenceItem, type EvidenceKind, type EvidenceKinds, type Recognizer, type SniffedFile } from './types.js';

/** A recognizer for a whole folder (a capture bundle is a folder of endpoint files). */
export interface FolderRecognizer<K extends EvidenceKind = EvidenceKind> {
  kind: K;
  /** Given the names in a folder, is it this kind? */
  matches(names: string[]): boolean;
  read(dir: string, rel: string, signal: AbortSignal): Promise<EvidenceKinds[K] | null>;
  /** File names inside a matched folder that the folder reader consumed (file recognizers skip them). */
  consumes(names: string[]): string[];
  describe(data: EvidenceKinds[K]): string;
}

/** How much one scan reads. Nothing past a limit is dropped silently: `checked` names what was skipped. */
export interface ScanLimits {
  /** Folder levels below the root that are entered. */
  maxDepth: number;
  /** Directory entries looked at, over the whole tree. */
  maxEntries: number;
  /** Files handed to the recognizers, highest priority first (GPU tool output, dumps, stacks, then logs). */
  maxFiles: number;
  /** Bytes of one file read whole (its first quarter and last three quarters past that size). */
  textBytes: number;
  /** Bytes of the middles of huge logs scanned line by line, over the whole scan. */
  middleScanBytes: number;
}

export const DEFAULT_SCAN_LIMITS: ScanLimits = { maxDepth: 12, maxEntries: 500_000, maxFiles: 5000, textBytes: 32 * 1024 * 1024, middleScanBytes: 8 * 1024 * 1024 * 1024 };

export interface ScanOptions {
  recognizers: readonly Recognizer[];
  folderRecognizers: readonly FolderRecognizer[];
  signal: AbortSignal;
  /** Files we never open (our own outputs). */
  ignore?: (rel: string) => boolean;
  limits?: Partial<ScanLimits>;
}

const OWN_OUTPUTS = new Set(['report.json', 'report.md', 'incident.json']);
const PRESNIFF_BYTES = 8 * 1024;
const LISTED = 8;

/**
 * Walks a folder and turns every file it recognises, by content, into typed evidence. Links are never
 * followed and FIFOs, sockets and devices are never opened. Over `maxFiles`, files are read in priority
 * order (by a look at their first bytes) and the rest are listed in `checked` as skipped.
 */
export async function scanFolder(root: string, options: ScanOptions): Promise<Evidence> {
  const limits = { ...DEFAULT_SCAN_LIMITS, ...options.limits };
  const abs = path.resolve(root);
  const info = await stat(abs).catch((err: unknown) => {
    throw new TriageError('E_NOT_FOUND', `no such folder: ${root}`, { cause: err });
  });
  if (!info.isDirectory()) throw new TriageError('E_NOT_FOUND', `${root} is not a folder`);

  const tree = await walkFolder(abs, { maxDepth: limits.maxDepth, maxEntries: limits.maxEntries, signal: options.signal });
  const items: EvidenceItem[] = [];
  const checked: string[] = [];
  const consumed = new Set<string>();

  const byDir = (entries: WalkEntry[]): Map<string, string[]> => {
    const m = new Map<string, string[]>();
    for (const e of entries) {
      const d = path.dirname(e.path);
      const list = m.get(d);
      if (list) list.push(path.basename(e.path));
      else m.set(d, [path.basename(e.path)]);
    }
    return m;
  };
  const filesByDir = byDir(tree.files);
  const specialByDir = byDir(tree.special);
  for (const dir of [{ path: abs, rel: '.' }, ...tree.dirs]) {
    throwIfAborted(options.signal, 'scan');
    const names = filesByDir.get(dir.path) ?? [];
    const specialNames = specialByDir.get(dir.path) ?? [];
    for (const folder of options.folderRecognizers) {
      if (!folder.matches(names)) continue;
      const rel = dir.rel || '.';
      // A folder reader opens files by name: when a name it wants is a link or a FIFO, it reads a copy of the regular files instead.
      const risky = folder.consumes(specialNames);
      const data = risky.length ? await readViaCopy(folder, dir.path, folder.consumes(names), rel, options.signal) : await folder.read(dir.path, rel, options.signal);
      if (risky.length) checked.push(`${rel}/: ${risky.join(', ')} not read (not a regular file: never opened or followed)`);
      if (data === null) continue;
      items.push({ kind: folder.kind, file: rel, data } as EvidenceItem);
      checked.push(`${rel}/: ${(folder.describe as (d: unknown) => string)(data)}`);
      for (const name of folder.consumes(names)) consumed.add(path.join(dir.path, name));
    }
  }

  const candidates = tree.files.filter((f) => !consumed.has(f.path) && !OWN_OUTPUTS.has(f.rel) && !options.ignore?.(f.rel));
  const { read, skipped, heads } = await prioritise(candidates, limits.maxFiles, options.signal);

  const unrecognised: string[] = [];
  let middleLeft = limits.middleScanBytes;
  for (const entry of read) {
    throwIfAborted(options.signal, 'scan');
    const { path: file, rel } = entry;
    let head: string;
    let size: number;
    try {
      const got = heads.get(file) ?? (await readHeadAndSize(file, HEAD_BYTES));
      head = got.head.toString('latin1');
      size = got.size;
    } catch {
      checked.push(`${rel}: not read (changed to a link or a non-regular file while scanning)`);
      continue;
    }
    let memo: Promise<BoundedText> | undefined;
    const readText = (signal: AbortSignal): Promise<BoundedText> =>
      (memo ??= readTextBounded(file, limits.textBytes, { signal, middleScanBytes: middleLeft }).then((t) => {
        if (t.note) middleLeft = Math.max(0, middleLeft - (size - limits.textBytes));
        return t;
      }));
    const sniffed: SniffedFile = { path: file, rel, size, head, readText };
    let matched = false;
    for (const recognizer of options.recognizers) {
      if (!recognizer.sniff(sniffed)) continue;
      const data = await recognizer.read(sniffed, options.signal);
      if (data === null) continue;
      items.push({ kind: recognizer.kind, file: rel, data } as EvidenceItem);
      checked.push(`${rel}: ${(recognizer.describe as (d: unknown) => string)(data)}`);
      matched = true;
    }
    const note = memo ? (await memo.catch(() => null))?.note : undefined;
    if (note) checked.push(`${rel}: ${note}`);
    if (!matched) unrecognised.push(rel);
  }

  checked.push(...limitNotes(tree, skipped, limits));
  return new Evidence(items, unrecognised, checked);
}

/** Copies the regular files a folder reader wants into a private temporary folder and reads that. */
async function readViaCopy(folder: FolderRecognizer, dir: string, names: string[], rel: string, signal: AbortSignal): Promise<unknown> {
  const shadow = await mkdtemp(path.join(os.tmpdir(), 'triage-scan-'));
  try {
    for (const name of names) {
      const handle = await openRegularFile(path.join(dir, name)).catch(() => null);
      if (!handle) continue;
      await pipeline(handle.createReadStream({ end: 512 * 1024 * 1024 }), createWriteStream(path.join(shadow, name)), { signal });
    }
    return await folder.read(shadow, rel, signal);
  } finally {
    await rm(shadow, { recursive: true, force: true });
  }
}

/**
 * Within the budget every file is read, in walk order. Past it, a look at the first 8 KiB ranks them:
 * GPU tool output and coredumps first, then dumps and stacks, then JSON, then logs and the rest; the
 * lowest-ranked are skipped (and listed).
 */
async function prioritise(files: WalkEntry[], maxFiles: number, signal: AbortSignal): Promise<{ read: WalkEntry[]; skipped: WalkEntry[]; heads: Map<string, { head: Buffer; size: number }> }> {
  const heads = new Map<string, { head: Buffer; size: number }>();
  if (files.length <= maxFiles) return { read: files, skipped: [], heads };
  const ranks = new Array<number>(files.length);
  // A few reads at a time: each is an open, an fstat and one read, done on libuv's thread pool.
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < files.length; i = next++) {
      throwIfAborted(signal, 'scan');
      const got = await readHeadAndSize(files[i]!.path, PRESNIFF_BYTES).catch(() => null);
      ranks[i] = got === null ? 9 : rankOf(got.head.toString('latin1'));
      // A file that fits in the look is kept, so it is not opened a second time.
      if (got && got.size <= PRESNIFF_BYTES) heads.set(files[i]!.path, got);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const order = files.map((_, i) => i).sort((a, b) => ranks[a]! - ranks[b]! || a - b);
  const keep = new Set(order.slice(0, maxFiles));
  for (const i of order.slice(maxFiles)) heads.delete(files[i]!.path);
  return { read: files.filter((_, i) => keep.has(i)), skipped: order.slice(maxFiles).map((i) => files[i]!), heads };
}

const GPU_TOOL_HEAD = /CUDA Exception:|Opening GPU coredump|target cudacore|Kernel\s+Parent\s+Dev|No CUDA kernels|received signal|^={5,} |coredump: |NVIDIA-SMI|utilization\.gpu|^Thread \d+ \(Thread 0x|^#\d+ +0x[0-9a-f]/m;
const STACKS_HEAD = /^Process \d+: |^Thread 0x[0-9A-Fa-f]+ \(|most recent call first|^Thread \d+ \((?:active|idle)/m;

export function rankOf(head: string): number {
  if (head.startsWith('\u007fELF') || GPU_TOOL_HEAD.test(head)) return 0;
  if (head.charCodeAt(0) === 0x80 || STACKS_HEAD.test(head)) return 1;
  if (/^\s*[[{]/.test(head.slice(0, 64))) return 2;
  return 3;
}

function limitNotes(tree: Awaited<ReturnType<typeof walkFolder>>, skipped: WalkEntry[], limits: ScanLimits): string[] {
  const list = (xs: string[]): string => `${xs.slice(0, LISTED).join(', ')}${xs.length > LISTED ? `, … ${xs.length - LISTED} more` : ''}`;
  const notes: string[] = [];
  if (skipped.length) notes.push(`scan limit: ${skipped.length} file(s) not read (over ${limits.maxFiles} files; GPU tool output, dumps and stacks were read first): ${list(skipped.map((s) => s.rel))}`);
  if (tree.stoppedAt) notes.push(`scan limit: stopped listing at ${tree.stoppedAt} after ${limits.maxEntries} folder entries; what lies after it was not seen`);
  if (tree.tooDeep.length) notes.push(`scan limit: folders deeper than ${limits.maxDepth} levels not entered: ${list(tree.tooDeep)}`);
  if (tree.special.length) notes.push(`not read (symlinks, FIFOs, sockets and devices are never followed or opened): ${list(tree.special.map((s) => `${s.rel} (${s.type})`))}`);
  return notes;
}
