/**
 * The body of one pipeline attempt's worker thread (see thread-runner.ts): loads the runner,
 * runs it with dependencies rebuilt from plain data, and posts progress, logs and the outcome.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TriageError } from '../errors.js';
import type { Logger, PipelineRequest } from '../pipelines/types.js';
import type { Registry } from '../config/servers.js';
import type { PipelineRunner } from './jobs.js';
import type { ThreadMessage } from './thread-runner.js';

interface ThreadInput {
  entry: string;
  exportName: string;
  req: PipelineRequest;
  registry: Registry;
  env: Record<string, string | undefined>;
  toolEnv?: Record<string, string | undefined>;
}

const port = parentPort!;
const input = workerData as ThreadInput;
const controller = new AbortController();
port.on('message', (message: { type: string; reason?: string }) => {
  if (message.type === 'abort') controller.abort(new TriageError('E_ABORTED', message.reason ?? 'aborted'));
});

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

try {
  const mod = (await import(input.entry)) as Record<string, unknown>;
  const run = mod[input.exportName] as PipelineRunner | undefined;
  if (typeof run !== 'function') throw new TriageError('E_CONFIG', `${input.entry} exports no ${input.exportName}`);
  const deps = { registry: input.registry, env: input.env, ...(input.toolEnv ? { toolEnv: input.toolEnv } : {}), now: () => new Date(), logger };
  const result = await run(input.req, deps, controller.signal, (progress) => post({ type: 'progress', progress }));
  post({ type: 'result', result });
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  post({ type: 'error', error: { name: e.name, message: e.message, ...(isCoded(e) ? { code: e.code } : {}) } });
}

function isCoded(e: Error): e is Error & { code: string } {
  return typeof (e as { code?: unknown }).code === 'string';
}
