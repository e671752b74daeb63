import { Worker } from 'node:worker_threads';
import { stopLeftoverTarget } from '../target/leftover.js';
import { TriageError, ERROR_CODES, type ErrorCode } from '../errors.js';
import type { PipelineResult, StepProgress } from '../pipelines/types.js';
import type { PipelineRunner } from './jobs.js';

/** What a pipeline thread posts back (src/queue/pipeline-thread.ts). */
export type ThreadMessage =
  | { type: 'ready' }
  | { type: 'started' }
  | { type: 'progress'; progress: StepProgress }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string; fields?: Record<string, unknown> }
  | { type: 'result'; result: PipelineResult }
  | { type: 'error'; error: { name: string; message: string; code?: string } };

export interface ThreadRunnerOptions {
  /** Module that exports the runner (default: the product's runPipeline in src/pipelines). */
  entry?: URL;
  exportName?: string;
  /** After the signal fires, how long a started pipeline may take to stop by itself (its managed target, say) before its thread is killed. */
  abortGraceMs?: number;
  /** V8 heap cap of each thread: a memory bomb ends the attempt, not the worker. */
  maxHeapMb?: number;
  /** Loaded threads kept for the next attempts (one per concurrent job is plenty). */
  maxIdle?: number;
}

export type ThreadedRunner = PipelineRunner & { close(): Promise<void> };

// Under tsx (dev, tests) the sources are .ts; in dist they are .js.
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/**
 * Runs each pipeline attempt in a worker thread. CPU-heavy parsing (a 512 KiB log line through a
 * regex, a huge pickle) then never blocks the worker's event loop, which renews BullMQ's job
 * locks, runs the host's other jobs and answers /healthz. The job's AbortSignal reaches the thread
 * as a message; a thread too busy to notice is terminated after abortGraceMs, so the attempt's
 * deadline holds even for code that never yields. Threads are loaded once (one is warm from the
 * start) and reused by later attempts; a killed or crashed one is replaced.
 */
export function threadedRunner(options: ThreadRunnerOptions = {}): ThreadedRunner {
  const entry = options.entry ?? new URL(`../pipelines/index${EXT}`, import.meta.url);
  const exportName = options.exportName ?? 'runPipeline';
  const graceMs = options.abortGraceMs ?? 5000;
  const maxIdle = options.maxIdle ?? 4;
  const idle: Worker[] = [];
  const all = new Set<Worker>();
  let closed = false;

  const spawn = (): Worker => {
    const body = new URL(`./pipeline-thread${EXT}`, import.meta.url);
    // From sources (dev, tests) the thread registers tsx's loader itself: Node 20 applies a
    // parent's `--import tsx` hooks to no worker thread. dist/ runs plain .js.
    const script = EXT === '.ts' ? `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(body.href)}); })` : body;
    const thread = new Worker(script, {
      eval: EXT === '.ts',
      workerData: { entry: entry.href, exportName },
      ...(options.maxHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb } } : {}),
    });
    all.add(thread);
    // An idle thread never keeps the process alive; one running a job does (ref() in run).
    thread.unref();
    const forget = () => {
      all.delete(thread);
      const at = idle.indexOf(thread);
      if (at >= 0) idle.splice(at, 1);
    };
    thread.on('error', forget);
    thread.on('exit', forget);
    return thread;
  };
  const release = (thread: Worker, reusable: boolean) => {
    thread.unref();
    if (reusable && !closed && idle.length < maxIdle && all.has(thread)) idle.push(thread);
    else void thread.terminate();
  };
  // Warm from the start: the first job does not wait for a cold thread either.
  idle.push(spawn());

  const run: PipelineRunner = (req, deps, signal, onProgress) =>
    new Promise<PipelineResult>((resolve, reject) => {
      if (closed) return reject(new TriageError('E_ABORTED', 'the pipeline runner is closed'));
      const thread = idle.pop() ?? spawn();
      thread.ref();
      let settled = false;
      let started = false;
      let killTimer: NodeJS.Timeout | undefined;
      const finish = (reusable: boolean, fn: () => void) => {
        if (settled) return;
        settled = true;
        if (killTimer) clearTimeout(killTimer);
        signal.removeEventListener('abort', onAbort);
        thread.off('message', onMessage);
        thread.off('error', onError);
        thread.off('exit', onExit);
        release(thread, reusable);
        // A thread that was killed or died never ran its pipeline's finally: stop the target it left.
        if (!reusable) void stopLeftoverTarget(req.incidentDir).catch((err: Error) => deps.logger.error('could not stop a clean target left behind', { incidentDir: req.incidentDir, err: err.message }));
        fn();
      };
      const aborted = (why: string) => new TriageError('E_ABORTED', why, { cause: signal.reason });
      const onAbort = () => {
        // Not started yet: nothing to clean up; the thread may take the next job.
        if (!started) return finish(false, () => reject(aborted('pipeline cancelled before it started')));
        thread.postMessage({ type: 'abort', reason: String(signal.reason ?? 'aborted') });
        killTimer = setTimeout(() => finish(false, () => reject(aborted(`pipeline thread did not stop within ${graceMs} ms of being cancelled; killed`))), graceMs);
        killTimer.unref();
      };
      const onMessage = (message: ThreadMessage) => {
        switch (message.type) {
          case 'ready':
            return;
          case 'started':
            started = true;
            return;
          case 'progress':
            onProgress(message.progress);
            return;
          case 'log':
            deps.logger[message.level](message.msg, message.fields);
            return;
          case 'result':
            return finish(!signal.aborted, () => resolve(message.result));
          case 'error':
            return finish(!signal.aborted, () => reject(reviveError(message.error)));
        }
      };
      const onError = (err: Error) => finish(false, () => reject(isOutOfMemory(err) ? new TriageError('E_LIMIT', `pipeline ran out of its ${options.maxHeapMb} MB heap: ${err.message}`, { cause: err }) : err));
      const onExit = (code: number) => finish(false, () => reject(new TriageError('E_SUBPROCESS', `pipeline thread exited (${code}) without a result`)));
      thread.on('message', onMessage);
      thread.on('error', onError);
      thread.on('exit', onExit);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      thread.postMessage({ type: 'run', input: { req, registry: deps.registry, env: deps.env, ...(deps.toolEnv ? { toolEnv: deps.toolEnv } : {}) } });
    });

  return Object.assign(run, {
    async close() {
      closed = true;
      idle.length = 0;
      await Promise.all([...all].map((t) => t.terminate()));
      all.clear();
    },
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
