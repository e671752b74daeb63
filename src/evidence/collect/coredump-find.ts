import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { throwIfAborted } from '../../errors.js';
import { fileReader, isCudaCore, readElfCore, type ElfCoreInfo } from '../gpu/elf-core.js';

/**
 * Finds CUDA GPU coredumps by CONTENT, never by file name:
 *   - every ELF core file with CUDA state (header EM_CUDA / OS-ABI CUDA, `.cudbg` sections, or a CUDA note)
 *     in the given folders, two levels down;
 *   - the path in the driver's own line `coredump: Writing ELF file to PATH` (CUDA_COREDUMP_SHOW_PROGRESS=1);
 *   - SGLang's locations. With `--crash-dump-folder F`, SGLang sets CUDA_COREDUMP_FILE=F/%h/core.cuda.%t.%p
 *     and the trigger pipe CUDA_COREDUMP_PIPE=/tmp/corepipe.cuda.%h.%p (python/sglang/srt/server_args.py,
 *     `_handle_crash_dump_env`), and logs `Auto-set CUDA_COREDUMP_FILE=… (from --crash-dump-folder)`;
 *     with SGLANG_CUDA_COREDUMP=1 it writes `$SGLANG_CUDA_COREDUMP_DIR` (default /tmp/sglang_cuda_coredumps)
 *     `/cuda_coredump_%h.%p.%t` (python/sglang/srt/debug_utils/cuda_coredump.py). Pass the crash-dump folder
 *     in `dirs`; `F/<host>/` is searched first, and the log's Auto-set line adds its folder.
 * Symlinks, FIFOs, sockets and devices are skipped without being opened.
 */
export interface FindCoredumpsOptions {
  /** Folders to search (e.g. the server's crash-dump folder, SGLANG_CUDA_COREDUMP_DIR). */
  dirs: string[];
  /** Server log text (or its tail): its driver and SGLang lines name coredump paths and folders. */
  logText?: string;
  /** Host name, for SGLang's `<folder>/<host>/` layout and `%h` in templates. */
  host?: string;
  signal: AbortSignal;
  /** Most candidates returned, newest first (default 8). */
  limit?: number;
  /** Most directory entries looked at, over all folders (default 20,000). */
  maxEntries?: number;
  /** Only files modified at or after this time (ms since the epoch): the dumps of one run. */
  since?: number;
}

export type CoredumpSource = 'driver-log' | 'sglang-folder' | 'folder';

export interface CoredumpCandidate {
  /** Absolute path. */
  file: string;
  bytes: number;
  mtimeMs: number;
  /** Why it was looked at; the file was always checked by content. */
  via: CoredumpSource;
  /** `.cudbg` sections counted in its section-name table. */
  cudaSections: number;
  /** The section table lies past the end of the file: cut or still being written. */
  truncated: boolean;
}

export interface FindCoredumpsResult {
  candidates: CoredumpCandidate[];
  /** Paths the log named that are missing, unreadable or not CUDA coredumps, with the reason. */
  rejected: Array<{ path: string; reason: string }>;
  /** The entry budget ran out before every folder was read. */
  truncated: boolean;
}

const DRIVER_LINE = /coredump: Writing ELF file to (\S{1,4096})/g;
const SGLANG_AUTOSET = /Auto-set CUDA_COREDUMP_FILE=(\S{1,4096})/g;
const MAX_DEPTH = 2;

/** The candidates, newest first. */
export async function findCoredumps(o: FindCoredumpsOptions): Promise<CoredumpCandidate[]> {
  return (await findCoredumpsDetailed(o)).candidates;
}

/** The candidates, plus the paths the log named that were rejected (and why) and whether a budget ran out. */
export async function findCoredumpsDetailed(o: FindCoredumpsOptions): Promise<FindCoredumpsResult> {
  const limit = o.limit ?? 8;
  let entriesLeft = o.maxEntries ?? 20_000;
  const seen = new Map<string, CoredumpCandidate>();
  const rejected: FindCoredumpsResult['rejected'] = [];
  let truncated = false;

  const consider = async (file: string, via: CoredumpSource, fromLog: boolean): Promise<void> => {
    const abs = path.resolve(file);
    if (seen.has(abs)) return;
    const checked = await checkFile(abs);
    if ('reason' in checked) {
      if (fromLog) rejected.push({ path: abs, reason: checked.reason });
      return;
    }
    if (o.since !== undefined && checked.mtimeMs < o.since) {
      if (fromLog) rejected.push({ path: abs, reason: 'older than this run' });
      return;
    }
    seen.set(abs, { file: abs, bytes: checked.size, mtimeMs: checked.mtimeMs, via, cudaSections: checked.elf.cudaSections, truncated: checked.elf.truncated });
  };

  const log = o.logText ?? '';
  for (const m of log.matchAll(DRIVER_LINE)) {
    throwIfAborted(o.signal, 'finding coredumps');
    await consider(trimPath(m[1]!), 'driver-log', true);
  }
  const dirs: Array<{ dir: string; via: CoredumpSource }> = [];
  for (const m of log.matchAll(SGLANG_AUTOSET)) {
    const dir = path.dirname(trimPath(m[1]!).replace(/%h/g, o.host ?? '%h'));
    if (!dir.includes('%')) dirs.push({ dir, via: 'sglang-folder' });
  }
  for (const dir of o.dirs) {
    if (o.host) dirs.push({ dir: path.join(dir, o.host), via: 'sglang-folder' });
    dirs.push({ dir, via: 'folder' });
  }

  const walk = async (dir: string, depth: number, via: CoredumpSource): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      throwIfAborted(o.signal, 'finding coredumps');
      if (--entriesLeft < 0) {
        truncated = true;
        return;
      }
      const full = path.join(dir, e.name);
      // Dirent types come from readdir itself (no stat): links, pipes, sockets and devices are never opened.
      if (e.isDirectory() && depth < MAX_DEPTH) await walk(full, depth + 1, via);
      else if (e.isFile()) await consider(full, via, false);
    }
  };
  for (const { dir, via } of dirs) {
    if (entriesLeft < 0) break;
    await walk(path.resolve(dir), 0, via);
  }

  const candidates = [...seen.values()].sort((a, b) => b.mtimeMs - a.mtimeMs || a.file.localeCompare(b.file)).slice(0, limit);
  return { candidates, rejected, truncated };
}

/** The driver line may end in punctuation or quotes. */
function trimPath(p: string): string {
  return p.replace(/^["']|["'.,;:]+$/g, '');
}

async function checkFile(file: string): Promise<{ size: number; mtimeMs: number; elf: ElfCoreInfo } | { reason: string }> {
  const info = await lstat(file).catch((err: NodeJS.ErrnoException) => err);
  if (info instanceof Error) return { reason: info.code === 'ENOENT' ? 'no such file' : info.message };
  if (!info.isFile()) return { reason: info.isSymbolicLink() ? 'a symbolic link (not followed)' : 'not a regular file' };
  if (info.size < 52) return { reason: 'too small to be an ELF file' };
  // O_NOFOLLOW | O_NONBLOCK: a file swapped for a link or a FIFO after the lstat is neither followed nor waited on.
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => null);
  if (!handle) return { reason: 'unreadable' };
  try {
    if (!(await handle.stat()).isFile()) return { reason: 'not a regular file' };
    const elf = await readElfCore(fileReader(handle), info.size);
    if (!elf) return { reason: 'not an ELF file' };
    if (!isCudaCore(elf)) return { reason: elf.isCore ? 'an ELF core without CUDA state' : 'an ELF file that is not a core' };
    return { size: info.size, mtimeMs: info.mtimeMs, elf };
  } catch {
    return { reason: 'unreadable ELF' };
  } finally {
    await handle.close();
  }
}

/** SGLang's trigger pipe for a process (`/tmp/corepipe.cuda.%h.%p`, server_args.py `_handle_crash_dump_env`). */
export function sglangCoredumpPipe(host: string, pid: number): string {
  return `/tmp/corepipe.cuda.${host}.${pid}`;
}
