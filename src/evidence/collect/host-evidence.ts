import { copyFile, mkdir, open, readdir, readFile, readlink, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { findCoredumps } from './coredump-find.js';
import { collectNvidiaSmi, collectRankEvidence, coredumpPipePath, inspectCoredump, type RankTarget, type ToolOutcome } from './index.js';
import type { RankEvidenceMode } from './rank-evidence.js';
import { summarizeInput } from '../dump/index.js';
import { writeFileAtomic } from '../../fsutil/atomic-write.js';
import type { IncidentPaths } from '../../incident/layout.js';
import { redactText } from '../../sglang/redact.js';

/**
 * Steps that read what the server left on its host: the log tail, crash and request dumps, CUDA
 * coredumps, and (for hangs) per-rank stacks and GPU state. Everything is copied into the incident
 * folder; the originals are never touched.
 */

const LOG_TAIL_BYTES = 16 * 1024 * 1024;
const DUMP_LINE = /Dumped \d+ finished and \d+ unfinished requests before crash to (\S+\.pkl)/g;

export interface LogCopy {
  file: string | null;
  crashDumpsNamed: string[];
}

/** Copies the last 16 MiB of the server log, redacted, into logs/, and notes the crash dumps it names. */
export async function collectServerLog(logFile: string | undefined, paths: IncidentPaths): Promise<LogCopy> {
  if (!logFile) return { file: null, crashDumpsNamed: [] };
  let size: number;
  try {
    size = (await stat(logFile)).size;
  } catch {
    return { file: null, crashDumpsNamed: [] };
  }
  const start = Math.max(0, size - LOG_TAIL_BYTES);
  const handle = await open(logFile, 'r');
  let text: string;
  try {
    const buf = Buffer.alloc(size - start);
    await handle.read(buf, 0, buf.length, start);
    text = buf.toString('utf8');
  } finally {
    await handle.close();
  }
  if (start > 0) text = text.slice(text.indexOf('\n') + 1);
  await mkdir(paths.logs, { recursive: true });
  const out = path.join(paths.logs, `server-tail.${path.basename(logFile)}`);
  await writeFileAtomic(out, redactText(text));
  return { file: out, crashDumpsNamed: [...text.matchAll(DUMP_LINE)].map((m) => m[1]!) };
}

/** Copies crash dumps (named by the log, else the newest under the crash-dump folder) into dumps/. */
export async function collectDumps(opts: { named: string[]; folder?: string; kind: 'crash' | 'request'; paths: IncidentPaths; max?: number }): Promise<string[]> {
  const candidates = new Set<string>();
  for (const file of opts.named) if (await isFile(file)) candidates.add(file);
  if (candidates.size === 0 && opts.folder) {
    const pattern = opts.kind === 'crash' ? /^crash_dump_.*\.pkl$/ : /\.pkl$/;
    const found = await newestFiles(opts.folder, pattern, opts.max ?? (opts.kind === 'crash' ? 1 : 3));
    for (const f of found) candidates.add(f);
  }
  await mkdir(opts.paths.dumps, { recursive: true });
  const copied: string[] = [];
  for (const file of candidates) {
    const target = path.join(opts.paths.dumps, path.basename(file));
    await copyFile(file, target);
    copied.push(target);
  }
  return copied;
}

export async function summariseDumpsInto(paths: IncidentPaths, signal: AbortSignal): Promise<{ requests: number; unfinished: number } | null> {
  const pkl = (await readdir(paths.dumps).catch(() => [] as string[])).filter((f) => f.endsWith('.pkl'));
  if (pkl.length === 0) return null;
  const summary = await summarizeInput(paths.dumps, { signal });
  await writeFileAtomic(paths.dumpSummary, `${JSON.stringify(summary, null, 2)}\n`);
  const requests = summary.requests.length;
  const unfinished = summary.requests.filter((r) => r.unfinished).length;
  return { requests, unfinished };
}

/** Runs cuda-gdb on the newest CUDA coredumps in a folder (found by content: findCoredumps) into coredumps/. */
export async function inspectNewestCoredumps(folder: string, paths: IncidentPaths, signal: AbortSignal, env?: Record<string, string | undefined>, max = 2): Promise<ToolOutcome[]> {
  const cores = (await findCoredumps({ dirs: [folder], host: os.hostname(), signal, limit: max })).map((c) => c.file);
  const out: ToolOutcome[] = [];
  for (const core of cores) out.push(await inspectCoredump({ incidentDir: paths.root, coredump: core, signal, ...(env ? { env } : {}) }));
  return out;
}

export const DEFAULT_SCHEDULER_PATTERN = '^sglang::scheduler';

/** Scheduler processes of a live server, by process title (sglang::scheduler_TP0 …), oldest first. */
export async function schedulerPids(signal: AbortSignal, pattern = DEFAULT_SCHEDULER_PATTERN): Promise<number[]> {
  const r = await execa('pgrep', ['-f', pattern], { reject: false, timeout: 5000, cancelSignal: signal });
  return String(r.stdout ?? '')
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Each scheduler's coredump pipe and core folder, from the environment it was started with. */
export async function rankTargets(pids: number[]): Promise<Array<RankTarget & { coreDir?: string }>> {
  const host = os.hostname();
  return Promise.all(
    pids.map(async (pid) => {
      const env = await readProcEnv(pid);
      if (env.CUDA_ENABLE_USER_TRIGGERED_COREDUMP !== '1') return { pid };
      const cwd = (await readlinkSafe(`/proc/${pid}/cwd`)) ?? '/';
      const coreFile = env.CUDA_COREDUMP_FILE;
      return {
        pid,
        pipe: coredumpPipePath(env.CUDA_COREDUMP_PIPE, { host, pid, cwd }),
        ...(coreFile ? { coreDir: path.dirname(path.isAbsolute(coreFile) ? coreFile : path.join(cwd, coreFile)) } : {}),
      };
    }),
  );
}

/**
 * A hang's live evidence: nvidia-smi, py-spy per rank, then either cuda-gdb attach (the processes live on)
 * or every rank's CUDA coredump (they end) read back with cuda-gdb. See rank-evidence.ts for why not both.
 */
export async function collectHangEvidence(
  paths: IncidentPaths,
  signal: AbortSignal,
  opts: { env?: Record<string, string | undefined>; pattern?: string; mode?: RankEvidenceMode; pids?: number[] } = {},
) {
  const env = opts.env;
  // A managed target's ranks are known by process group; only without one do we look for them by title.
  const pids = (opts.pids ?? (await schedulerPids(signal, opts.pattern))).filter((pid) => pid !== process.pid);
  const gpu = await collectNvidiaSmi({ incidentDir: paths.root, signal, label: 'hang', ...(env ? { env } : {}) });
  const targets = await rankTargets(pids);
  const mode = opts.mode ?? 'attach';
  const ranks = pids.length ? await collectRankEvidence({ incidentDir: paths.root, ranks: targets, mode, signal, ...(env ? { pySpy: { env }, cudaGdb: { env } } : {}) }) : [];
  const cores: ToolOutcome[] = [];
  if (mode === 'coredump') {
    for (const dir of new Set(targets.map((t) => t.coreDir).filter((d): d is string => Boolean(d)))) {
      cores.push(...(await inspectNewestCoredumps(dir, paths, signal, env, targets.length)));
    }
  }
  await mkdir(paths.stacks, { recursive: true });
  await writeFileAtomic(path.join(paths.stacks, 'collection.json'), `${JSON.stringify({ mode, pids, gpu, ranks, cores }, null, 2)}\n`).catch(() => undefined);
  return { pids, gpu, ranks, cores, mode };
}

async function readProcEnv(pid: number): Promise<Record<string, string>> {
  try {
    const raw = await readFile(`/proc/${pid}/environ`, 'utf8');
    return Object.fromEntries(raw.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  } catch {
    return {};
  }
}

async function readlinkSafe(p: string): Promise<string | null> {
  return readlink(p).catch(() => null);
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile()).catch(() => false);
}

/** Newest files matching a name pattern, up to two folder levels down (crash dumps sit in <folder>/<host>/). */
async function newestFiles(folder: string, pattern: RegExp, max: number): Promise<string[]> {
  const found: Array<{ file: string; mtime: number }> = [];
  const walk = async (dir: string, depth: number) => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory() && depth < 2) await walk(full, depth + 1);
      else if (e.isFile() && pattern.test(e.name)) {
        const info = await stat(full).catch(() => null); // removed since readdir: skip it
        if (info) found.push({ file: full, mtime: info.mtimeMs });
      }
    }
  };
  await walk(folder, 0);
  return found.sort((a, b) => b.mtime - a.mtime).slice(0, max).map((f) => f.file);
}
