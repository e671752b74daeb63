/**
 * Pipeline runners that stand for CPU-heavy parsing, loaded by the pipeline thread
 * (src/queue/thread-runner.ts) in queue tests. Each writes a real report.json like reportRunner.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PipelineRunner } from '../../src/queue/jobs.js';
import { SLOW_REPORT } from '../templates/fixtures.js';

async function writeReport(incidentDir: string) {
  await mkdir(incidentDir, { recursive: true });
  const file = path.join(incidentDir, 'report.json');
  await writeFile(file, JSON.stringify(SLOW_REPORT, null, 2));
  return { incidentDir, report: SLOW_REPORT, bundleSummary: null, files: [file] };
}

/**
 * Parses the server's registered log with a backtracking regex: on a long hex line it never
 * finishes (nested quantifiers, no match at the end), the way a superlinear recogniser hangs on
 * a poisoned log. It never yields, so only killing its thread ends it. A server without a log
 * file is captured at once.
 */
export const poisonedLogRunner: PipelineRunner = async (req, deps, _signal, onProgress) => {
  onProgress({ step: 'route', state: 'started', at: deps.now().toISOString() });
  const logFile = 'logFile' in req.server ? req.server.logFile : undefined;
  if (logFile) {
    for (const line of (await readFile(logFile, 'utf8')).split('\n')) {
      if (/^(?:[0-9a-f]+\s?)+$/.test(`${line}!`)) throw new Error('unreachable');
    }
  }
  onProgress({ step: 'route', state: 'done', at: deps.now().toISOString() });
  return writeReport(req.incidentDir);
};

/** Holds its thread's CPU for `BURN_MS` (3 s) without yielding, then reports. */
export const cpuBurnRunner: PipelineRunner = async (req, deps, _signal, onProgress) => {
  onProgress({ step: 'route', state: 'started', at: deps.now().toISOString() });
  const until = Date.now() + 3000;
  let spins = 0;
  while (Date.now() < until) spins++;
  onProgress({ step: 'route', state: 'done', detail: `${spins} spins`, at: deps.now().toISOString() });
  return writeReport(req.incidentDir);
};

/** Reports which thread ran it (in `files`), to see threads reused across attempts. */
export const threadIdRunner: PipelineRunner = async (req) => {
  const { threadId } = await import('node:worker_threads');
  return { incidentDir: req.incidentDir, report: null, bundleSummary: null, files: [String(threadId)] };
};

/** Bad input: a coded error that must come back with its code. */
export const badInputRunner: PipelineRunner = async () => {
  const { TriageError } = await import('../../src/errors.js');
  throw new TriageError('E_BAD_INPUT', 'crash dump is not a pickle');
};

/** Never yields, never ends. */
export const spinForeverRunner: PipelineRunner = async (_req, deps, _signal, onProgress) => {
  onProgress({ step: 'route', state: 'started', at: deps.now().toISOString() });
  for (;;) {
    // Spin: only terminating the thread stops this.
  }
};
