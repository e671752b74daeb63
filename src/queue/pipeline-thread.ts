/**
 * The body of a pipeline worker thread (see thread-runner.ts): loads the runner at once (so a
 * thread is warm before its first job), then runs attempts one at a time when told, with
 * dependencies rebuilt from plain data, posting progress, logs and the outcome back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TriageError } from '../errors.js';
import type { Registry } from '../config/servers.js';
import type { Logger, PipelineRequest } from '../pipelines/types.js';
import type { PipelineRunner } from './jobs.js';
import type { ThreadMessage } from './thread-runner.js';

interface RunInput {
  req: PipelineRequest;
  registry: Registry;
  env: Record<string, string | undefined>;
  toolEnv?: Record<string, string | undefined>;
}

const port = parentPort!;
const { entry, exportName } = workerData as { entry: string; exportName: string };
let controller = new AbortController();

function post(message: ThreadMessage): void {
  try {
    port.postMessage(message);
  } catch {
    // A field that cannot be cloned (a function, a socket): send its JSON form instead.
    port.postMessage(JSON.parse(JSON.stringify(message)) as ThreadMessage);
  }
}

const log =
  (level: 'debug' | 'info' | 'warn' | 'error') =>
  (msg: string, fields?: Record<string, unknown>): void =>
    post({ type: 'log', level, msg, ...(fields ? { fields } : {}) });
const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };

function fail(err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  post({ type: 'error', error: { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) } });
}

const loading = import(entry).then((mod: Record<string, unknown>) => {
  const run = mod[exportName];
  if (typeof run !== 'function') throw new TriageError('E_CONFIG', `${entry} exports no ${exportName}`);
  return run as PipelineRunner;
});
loading.then(() => post({ type: 'ready' }), () => undefined);

port.on('message', (message: { type: string; reason?: string; input?: RunInput }) => {
  if (message.type === 'abort') controller.abort(new TriageError('E_ABORTED', message.reason ?? 'aborted'));
  if (message.type !== 'run' || !message.input) return;
  const input = message.input;
  // Each attempt has a signal of its own.
  controller = new AbortController();
  const { signal } = controller;
  loading
    .then((run) => {
      post({ type: 'started' });
      const deps = { registry: input.registry, env: input.env, ...(input.toolEnv ? { toolEnv: input.toolEnv } : {}), now: () => new Date(), logger };
      return run(input.req, deps, signal, (progress) => post({ type: 'progress', progress }));
    })
    .then((result) => post({ type: 'result', result }), fail);
});
