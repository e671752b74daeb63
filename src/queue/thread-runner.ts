import { Worker } from 'node:worker_threads';
import { TriageError, ERROR_CODES, type ErrorCode } from '../errors.js';
import type { PipelineResult, StepProgress } from '../pipelines/types.js';
import type { PipelineRunner } from './jobs.js';

/** What the pipeline thread posts back (src/queue/pipeline-thread.ts). */
export type ThreadMessage =
  | { type: 'progress'; progress: StepProgress }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string; fields?: Record<string, unknown> }
  | { type: 'result'; result: PipelineResult }
  | { type: 'error'; error: { name: string; message: string; code?: string } };

export interface ThreadRunnerOptions {
  /** Module that exports the runner (default: the product's runPipeline in src/pipelines). */
  entry?: URL;
  exportName?: string;
  /** After the signal fires, how long the pipeline may take to stop by itself before its thread is killed. */
  abortGraceMs?: number;
  /** V8 heap cap of the thread: a memory bomb ends the attempt, not the worker. */
  maxHeapMb?: number;
}

// Under tsx (dev, tests) the sources are .ts; in dist they are .js.
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/**
 * Runs each pipeline attempt in a worker thread. CPU-heavy parsing (a 512 KiB log line through a
 * regex, a huge pickle) then never blocks the worker's event loop, which renews BullMQ's job
 * locks, serves the other jobs on the host and answers /healthz. The thread gets the job's
 * AbortSignal as a message; a thread too busy to notice is terminated after abortGraceMs, so the
 * attempt's deadline holds even for code that never yields.
 */
export function threadedRunner(options: ThreadRunnerOptions = {}): PipelineRunner {
  const entry = options.entry ?? new URL(`../pipelines/index${EXT}`, import.meta.url);
  const exportName = options.exportName ?? 'runPipeline';
  const graceMs = options.abortGraceMs ?? 5000;
  return (req, deps, signal, onProgress) =>
    new Promise<PipelineResult>((resolve, reject) => {
      const thread = new Worker(new URL(`./pipeline-thread${EXT}`, import.meta.url), {
        workerData: { entry: entry.href, exportName, req, registry: deps.registry, env: deps.env, ...(deps.toolEnv ? { toolEnv: deps.toolEnv } : {}) },
        // A .ts thread needs tsx's loader; Node passes the parent's execArgv on, vitest's has none.
        ...(EXT === '.ts' && !process.execArgv.some((a) => a.includes('tsx')) ? { execArgv: [...process.execArgv, '--import', 'tsx'] } : {}),
        ...(options.maxHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb } } : {}),
        stdout: false,
        stderr: false,
      });
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        if (killTimer) clearTimeout(killTimer);
        signal.removeEventListener('abort', onAbort);
        fn();
        void thread.terminate();
      };
      const onAbort = () => {
        thread.postMessage({ type: 'abort', reason: String(signal.reason ?? 'aborted') });
        killTimer = setTimeout(() => {
          finish(() => reject(new TriageError('E_ABORTED', `pipeline thread did not stop within ${graceMs} ms of being cancelled; killed`, { cause: signal.reason })));
        }, graceMs);
        killTimer.unref();
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      thread.on('message', (message: ThreadMessage) => {
        switch (message.type) {
          case 'progress':
            onProgress(message.progress);
            return;
          case 'log':
            deps.logger[message.level](message.msg, message.fields);
            return;
          case 'result':
            return finish(() => resolve(message.result));
          case 'error':
            return finish(() => reject(reviveError(message.error)));
        }
      });
      thread.on('error', (err) => finish(() => reject(isOutOfMemory(err) ? new TriageError('E_LIMIT', `pipeline ran out of its ${options.maxHeapMb} MB heap: ${err.message}`, { cause: err }) : err)));
      thread.on('exit', (code) => finish(() => reject(new TriageError('E_SUBPROCESS', `pipeline thread exited (${code}) without a result`))));
    });
}

function reviveError(error: { name: string; message: string; code?: string }): Error {
  if (error.name === 'TriageError' && error.code && error.code in ERROR_CODES) return new TriageError(error.code as ErrorCode, error.message);
  const err = new Error(error.message);
  err.name = error.name;
  return err;
}

function isOutOfMemory(err: Error): boolean {
  return (err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
}
