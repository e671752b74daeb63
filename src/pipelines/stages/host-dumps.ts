import path from 'node:path';
import { collectDumps, collectServerLog, inspectNewestCoredumps, summariseDumpsInto } from '../../evidence/collect/host-evidence.js';
import { MINUTE, type Stage } from '../context.js';

const DEFAULT_COREDUMP_DIR = '/tmp/sglang_cuda_coredumps';

/** The production server's log tail (redacted), and the crash dumps its "Dumped … to PATH" lines name. */
export const serverLogStage: Stage = {
  title: 'copy server log',
  deadlineMs: () => MINUTE,
  skip: (ctx) => (ctx.server?.logFile ? null : 'no log file registered (servers.yaml logFile)'),
  async run(ctx) {
    const log = await collectServerLog(ctx.server?.logFile, ctx.paths);
    ctx.state.log = log;
    return log.file ? `${path.basename(log.file)}; ${log.crashDumpsNamed.length} crash dump(s) named` : `cannot read ${ctx.server?.logFile}`;
  },
};

/** The newest crash dump (named by the log, else the newest in crashDumpDir), copied into dumps/. */
export const crashDumpsStage: Stage = {
  title: 'collect crash dumps',
  deadlineMs: () => 5 * MINUTE,
  skip: (ctx) => (ctx.server?.crashDumpDir || ctx.state.log?.crashDumpsNamed.length ? null : 'no crash-dump folder registered and the log names none'),
  async run(ctx) {
    const copied = await collectDumps({ named: ctx.state.log?.crashDumpsNamed ?? [], ...folder(ctx.server?.crashDumpDir), kind: 'crash', paths: ctx.paths });
    return copied.length ? copied.map((f) => path.basename(f)).join(', ') : 'none found';
  },
};

/** The saved slow requests (request dumps keep finished requests only), newest first. */
export const requestDumpsStage: Stage = {
  title: 'collect request dumps',
  deadlineMs: () => 5 * MINUTE,
  skip: (ctx) => (ctx.server?.requestDumpDir ? null : 'no request-dump folder registered (servers.yaml requestDumpDir)'),
  async run(ctx) {
    const copied = await collectDumps({ named: [], ...folder(ctx.server?.requestDumpDir), kind: 'request', paths: ctx.paths });
    return copied.length ? copied.map((f) => path.basename(f)).join(', ') : 'none found';
  },
};

export const dumpSummaryStage: Stage = {
  title: 'summarise dumps',
  deadlineMs: () => 5 * MINUTE,
  async run(ctx, signal) {
    const r = await summariseDumpsInto(ctx.paths, signal);
    return r ? `${r.requests} requests, ${r.unfinished} unfinished` : 'no dumps';
  },
};

/** CUDA coredumps the production server already left on the host (read-only: nothing is triggered). */
export const hostCoredumpsStage: Stage = {
  title: 'cuda-gdb on CUDA coredumps',
  deadlineMs: () => 8 * MINUTE,
  async run(ctx, signal) {
    const dir = ctx.server?.coredumpDir ?? DEFAULT_COREDUMP_DIR;
    const r = await inspectNewestCoredumps(dir, ctx.paths, signal, ctx.deps.toolEnv);
    return r.length ? r.map((o) => o.kind).join(', ') : `no coredumps in ${dir}`;
  },
};

function folder(dir: string | undefined): { folder?: string } {
  return dir ? { folder: dir } : {};
}
