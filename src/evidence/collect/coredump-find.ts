import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * CUDA coredumps found by what they are, not by what they are called: ELF files of type ET_CORE in the
 * given folders (two levels down: SGLang writes <crash-dump-folder>/<host>/core.cuda.*), plus any path
 * the CUDA driver logged ("coredump: Writing ELF file to PATH").
 */
export interface CoredumpCandidate {
  file: string;
  via: 'elf-core' | 'driver-log';
  mtimeMs: number;
  bytes: number;
}

const DRIVER_LINE = /coredump: Writing ELF file to (\S+)/g;
const ET_CORE = 4;

export async function findCoredumps(opts: { dirs: string[]; logText?: string; since?: number; limit?: number; signal?: AbortSignal }): Promise<CoredumpCandidate[]> {
  const found = new Map<string, CoredumpCandidate>();
  const consider = async (file: string, via: CoredumpCandidate['via']) => {
    if (found.has(file) || opts.signal?.aborted) return;
    const info = await stat(file).catch(() => null);
    if (!info?.isFile() || (opts.since !== undefined && info.mtimeMs < opts.since)) return;
    if (via === 'elf-core' && !(await isElfCore(file))) return;
    found.set(file, { file, via, mtimeMs: info.mtimeMs, bytes: info.size });
  };
  for (const m of (opts.logText ?? '').matchAll(DRIVER_LINE)) await consider(m[1]!, 'driver-log');
  const walk = async (dir: string, depth: number) => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(dir, e.name);
      if (e.isDirectory() && depth < 2) await walk(full, depth + 1);
      else if (e.isFile()) await consider(full, 'elf-core');
    }
  };
  for (const dir of opts.dirs) await walk(dir, 0);
  return [...found.values()].sort((a, b) => b.mtimeMs - a.mtimeMs).slice(0, opts.limit ?? 4);
}

/** ELF magic, then e_type (little-endian u16 at offset 16) == ET_CORE. */
async function isElfCore(file: string): Promise<boolean> {
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return false;
  try {
    const head = Buffer.alloc(18);
    const { bytesRead } = await handle.read(head, 0, 18, 0);
    return bytesRead === 18 && head.readUInt32BE(0) === 0x7f454c46 && head.readUInt16LE(16) === ET_CORE;
  } finally {
    await handle.close();
  }
}
