/** The real entries (`src/queue/worker-main.ts`, `src/slack/main.ts`) as child processes, JSON logs captured. */
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from './tmp.js';

export interface WorkerChild {
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  /** The fields of the "… ready" log line. */
  ready: Promise<Record<string, unknown> & { opsPort: number }>;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

export function spawnWorker(env: Record<string, string>): WorkerChild {
  return spawnEntry('src/queue/worker-main.ts', 'worker ready', env);
}

/** `nodeArgs`: extra node flags, e.g. --cpu-prof when profiling the bench. */
export function spawnBot(env: Record<string, string>, nodeArgs: string[] = []): WorkerChild {
  return spawnEntry('src/slack/main.ts', 'bot ready', env, nodeArgs);
}

/** Any script of the repository that logs a JSON "<readyMsg>" line on stderr when it is up (bench references). */
export function spawnScript(file: string, readyMsg: string, env: Record<string, string>, nodeArgs: string[] = []): WorkerChild {
  return spawnEntry(file, readyMsg, env, nodeArgs);
}

function spawnEntry(file: string, readyMsg: string, env: Record<string, string>, nodeArgs: string[] = []): WorkerChild {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', file], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let buffered = '';
  let markReady!: (v: Record<string, unknown> & { opsPort: number }) => void;
  let fail!: (e: Error) => void;
  const ready = new Promise<Record<string, unknown> & { opsPort: number }>((resolve, reject) => {
    markReady = resolve;
    fail = reject;
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === readyMsg) markReady({ ...entry, opsPort: (entry.opsPort ?? entry.port) as number });
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  ready.catch(() => undefined); // awaited by callers that want it; never an unhandled rejection
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then((code) => fail(new Error(`${file} exited (${code}) before it was ready: ${JSON.stringify(logs.slice(-5))}`)));
  return {
    child,
    logs,
    ready,
    exited,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
