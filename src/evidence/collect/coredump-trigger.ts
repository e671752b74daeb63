import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { TriageError } from '../../errors.js';

/**
 * The CUDA user-triggered coredump: a process started with CUDA_ENABLE_USER_TRIGGERED_COREDUMP=1 has
 * its driver read a named pipe (CUDA_COREDUMP_PIPE, default `corepipe.cuda.<host>.<pid>` in its cwd);
 * writing to it makes the driver dump the GPU state of that process. It must happen BEFORE any debugger
 * attaches: after a late attach the driver disables it.
 *
 * Opening a FIFO for writing blocks until a reader exists, and a blocked open cannot be cancelled, so
 * the pipe is opened non-blocking and retried until the deadline.
 */
export type TriggerOutcome =
  | { kind: 'ok'; pipe: string }
  | { kind: 'timeout'; pipe: string; message: string }
  | { kind: 'missing'; pipe: string }
  | { kind: 'failed'; pipe: string; message: string };

export interface TriggerOptions {
  timeoutMs?: number;
  signal: AbortSignal;
  pollMs?: number;
}

export async function triggerUserCoredump(pipe: string, o: TriggerOptions): Promise<TriggerOutcome> {
  const deadline = Date.now() + (o.timeoutMs ?? 10_000);
  const info = await stat(pipe).catch((err: NodeJS.ErrnoException) => err);
  if (info instanceof Error) {
    return info.code === 'ENOENT' ? { kind: 'missing', pipe } : { kind: 'failed', pipe, message: info.message };
  }
  if (!info.isFIFO()) return { kind: 'failed', pipe, message: 'not a named pipe (refusing to write into a regular file)' };
  for (;;) {
    if (o.signal.aborted) throw new TriageError('E_ABORTED', 'coredump trigger aborted', { cause: o.signal.reason });
    try {
      const handle = await open(pipe, constants.O_WRONLY | constants.O_NONBLOCK);
      try {
        await handle.write('1');
      } finally {
        await handle.close();
      }
      return { kind: 'ok', pipe };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENXIO: nobody reads the pipe yet (driver not initialised, or the process is gone).
      if (code !== 'ENXIO' && code !== 'EAGAIN') return { kind: 'failed', pipe, message: (err as Error).message };
    }
    if (Date.now() >= deadline) return { kind: 'timeout', pipe, message: 'no reader on the pipe before the deadline (coredump not enabled for this process, or it exited)' };
    await sleep(o.pollMs ?? 100, undefined, { signal: o.signal }).catch(() => undefined);
  }
}

/** Expands CUDA_COREDUMP_PIPE's template: %h host, %p pid, %t time; relative paths are from the process cwd. */
export function coredumpPipePath(template: string | undefined, p: { host: string; pid: number; cwd: string; time?: number }): string {
  const t = template ?? 'corepipe.cuda.%h.%p';
  const expanded = t.replace(/%h/g, p.host).replace(/%p/g, String(p.pid)).replace(/%t/g, String(p.time ?? ''));
  return path.isAbsolute(expanded) ? expanded : path.join(p.cwd, expanded);
}
