import type { Recognizer } from '../types.js';
import { hasIncidentContent, parseServerLog, type ServerLog } from './server-log-parse.js';
import { looksLikeText, readEvidenceText } from './text.js';

export type { ServerLog, BatchLine, CudaErrorLine, OomLine, LogRef, XidLine, NcclWatchdogLine, WatchdogLine, DeviceAssert, CrashDumpLine } from './server-log-parse.js';

declare module '../types.js' {
  interface EvidenceKinds {
    'server-log': ServerLog;
  }
}

/** Cheap hints that a text file is process output worth a full read. */
const HINTS = /Prefill batch|Decode batch|sglang|Scheduler|Traceback|CUDA|NCCL|Xid|torch|\[TP\d+|\[rank\d+\]|INFO|ERROR|WARNING|watchdog|coredump|Dumped|crash|kernel|[Ee]xception|[Ee]rror|[Tt]imeout/;

export function describeServerLog(log: ServerLog): string {
  const parts: string[] = [];
  const lastPrefill = [...log.batches].reverse().find((b) => b.kind === 'prefill');
  if (log.batchCount) parts.push(`${log.batchCount} batch line(s)${lastPrefill?.newToken !== undefined ? `, last prefill #new-token ${lastPrefill.newToken}` : ''}`);
  const count = (n: number, what: string): void => {
    if (n) parts.push(`${n} ${what}`);
  };
  count(log.cudaErrors.length, 'CUDA error line(s)');
  count(log.deviceAsserts.length, 'device assertion(s)');
  count(log.oom.length, 'out-of-memory line(s)');
  count(log.tracebacks.length, 'traceback(s)');
  count(log.crashDumps.length, 'crash dump line(s)');
  count(log.watchdogTimeouts.length, 'watchdog timeout(s)');
  count(log.ncclWatchdog.length, 'NCCL watchdog line(s)');
  count(log.ncclErrors.length, 'NCCL error line(s)');
  count(log.xids.length, 'Xid line(s)');
  count(log.healthCheckFailures.length, 'health-check failure(s)');
  count(log.coredumpNotes.length, 'coredump note(s)');
  return `server log${log.ranks.length ? ` (${log.ranks.join(', ')})` : ''}: ${parts.join('; ') || 'no incident lines'}`;
}

export const serverLogRecognizer: Recognizer<'server-log'> = {
  kind: 'server-log',
  sniff: (file) => looksLikeText(file) && (HINTS.test(file.head) || file.size > file.head.length),
  async read(file, signal) {
    const log = parseServerLog(await readEvidenceText(file, signal));
    return hasIncidentContent(log) ? log : null;
  },
  describe: describeServerLog,
};
