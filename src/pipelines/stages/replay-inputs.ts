import { readdir } from 'node:fs/promises';
import { collectDumps, collectServerLog } from '../../evidence/collect/host-evidence.js';
import { MINUTE, type Stage } from '../context.js';

/** `replay` on a folder that holds no dump yet: bring the newest crash dump from the host first. */
export const hostDumpsIfNoneStage: Stage = {
  title: 'collect crash dumps',
  deadlineMs: () => 5 * MINUTE,
  async run(ctx) {
    const have = (await readdir(ctx.paths.dumps).catch(() => [] as string[])).filter((f) => f.endsWith('.pkl'));
    if (have.length) return `the folder already holds ${have.length} dump(s)`;
    const log = await collectServerLog(ctx.server?.logFile, ctx.paths);
    const copied = await collectDumps({ named: log.crashDumpsNamed, ...(ctx.server?.crashDumpDir ? { folder: ctx.server.crashDumpDir } : {}), kind: 'crash', paths: ctx.paths });
    return copied.length ? `${copied.length} file(s) from the host` : 'none found on the host';
  },
};
