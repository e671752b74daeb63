import { copyFile, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { findCoredumps } from '../../evidence/collect/coredump-find.js';
import { inspectCoredump } from '../../evidence/collect/index.js';
import { redactText } from '../../sglang/redact.js';
import { MINUTE, type RunContext, type Stage } from '../context.js';
import { writeFileAtomic } from '../../fsutil/atomic-write.js';

const DUMP_LINE = /Dumped \d+ finished and \d+ unfinished requests before crash to (\S+\.pkl)/g;
/** SGLang waits up to SGLANG_CUDA_COREDUMP_BEFORE_CRASH_WAIT_SECS (60 s) for coredumps before exiting. */
const EXIT_WAIT_MS = 90_000;

/**
 * What the crashed target left: its log (logs/target.log, redacted in place), the crash dump it wrote,
 * and its CUDA coredump, found by content (an ELF core) in the folders the launch plan pointed the
 * driver at, or at the path the driver logged; then cuda-gdb on each coredump.
 */
export const crashAftermathStage: Stage = {
  title: 'collect what the crashed target left',
  deadlineMs: () => 12 * MINUTE,
  skip: (ctx) => (ctx.state.target?.kind !== 'managed' ? 'no target started by this pipeline' : !ctx.state.replay ? 'no replay ran' : null),
  async run(ctx, signal) {
    const handle = ctx.state.target;
    if (handle?.kind !== 'managed') return 'no target';
    const target = handle.target;
    const died = isFailure(ctx.state.replay?.reproduced) || target.exit() !== null;
    if (!died) return `the target survived the replay (reproduced: ${String(ctx.state.replay?.reproduced)}); nothing to collect`;
    ctx.tick(crashAftermathStage.title, 'waiting for the target to finish writing its dumps and exit');
    await Promise.race([target.exited, new Promise((r) => setTimeout(r, EXIT_WAIT_MS).unref()), new Promise((r) => signal.addEventListener('abort', r, { once: true }))]);
    const exit = target.exit();
    const logText = await readFile(target.logFile, 'utf8').catch(() => '');
    await writeFileAtomic(target.logFile, redactText(logText));
    const parts = [`target ${exit ? (exit.signal ?? `exit ${exit.code}`) : 'still running'}`, `log ${path.relative(ctx.paths.root, target.logFile)} (${logText.split('\n').length} lines)`];

    const dumps = await collectTargetCrashDumps(ctx, logText, target.plan.crashDumpFolder, target.startedAt.getTime());
    parts.push(dumps.length ? `crash dump ${dumps.map((d) => path.relative(ctx.paths.root, d)).join(', ')}` : 'no crash dump written');

    const cores = await findCoredumps({ dirs: target.plan.coredumpDirs, logText, since: target.startedAt.getTime() - 1000, signal });
    if (!cores.length) {
      parts.push(`no CUDA coredump in ${target.plan.coredumpDirs.map((d) => path.relative(ctx.paths.root, d) || '.').join(', ')} or named in the target log`);
      return parts.join('; ');
    }
    for (const core of cores.slice(0, 2)) {
      const local = await keepInIncident(ctx, core.file);
      const r = await inspectCoredump({ incidentDir: ctx.paths.root, coredump: local, signal, ...(ctx.deps.toolEnv ? { env: ctx.deps.toolEnv } : {}) });
      parts.push(`coredump ${path.relative(ctx.paths.root, local)} (${(core.bytes / 1e6).toFixed(1)} MB, found by ${core.via}): cuda-gdb ${r.kind}`);
    }
    return parts.join('; ');
  },
};

function isFailure(reproduced: unknown): boolean {
  return reproduced === 'crash' || reproduced === true;
}

/** The target's own crash dumps: named by its log, else new files in its crash-dump folder; copied in if outside. */
async function collectTargetCrashDumps(ctx: RunContext, logText: string, folder: string | null, since: number): Promise<string[]> {
  const named = [...logText.matchAll(DUMP_LINE)].map((m) => m[1]!);
  const found = new Set<string>();
  for (const f of named) if (await isNewFile(f, since)) found.add(f);
  if (!found.size && folder) {
    const walk = async (dir: string, depth: number) => {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const full = path.join(dir, e.name);
        if (e.isDirectory() && depth < 1) await walk(full, depth + 1);
        else if (e.isFile() && e.name.endsWith('.pkl') && (await isNewFile(full, since))) found.add(full);
      }
    };
    await walk(folder, 0);
  }
  return Promise.all([...found].map((f) => keepInIncident(ctx, f, path.join(ctx.paths.replay, 'crash-dumps'))));
}

async function isNewFile(file: string, since: number): Promise<boolean> {
  const info = await stat(file).catch(() => null);
  return Boolean(info?.isFile() && info.mtimeMs >= since - 1000);
}

/** Files already inside the incident stay where they are; others are copied in (the original is never moved). */
async function keepInIncident(ctx: RunContext, file: string, intoDir = ctx.paths.coredumps): Promise<string> {
  const abs = path.resolve(file);
  if (abs.startsWith(ctx.paths.root + path.sep)) return abs;
  await mkdir(intoDir, { recursive: true });
  const dest = path.join(intoDir, path.basename(abs));
  await copyFile(abs, dest);
  return dest;
}
