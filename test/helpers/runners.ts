/**
 * Small but real pipeline runners for queue tests: they honour the AbortSignal, report progress
 * and write a real report.json into the incident folder, like the lead's runPipeline does.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PipelineRunner } from '../../src/queue/jobs.js';
import { TriageError } from '../../src/errors.js';
import type { Report } from '../../src/contracts/report.js';
import { SLOW_REPORT } from '../templates/fixtures.js';

export function reportRunner(options: { report?: Report; stepMs?: number; steps?: string[] } = {}): PipelineRunner & { calls: number } {
  const runner = async (req: Parameters<PipelineRunner>[0], deps: Parameters<PipelineRunner>[1], signal: AbortSignal, onProgress: Parameters<PipelineRunner>[3]) => {
    runner.calls++;
    for (const step of options.steps ?? ['capture baseline bundle', 'route']) {
      onProgress({ step, state: 'started', at: deps.now().toISOString() });
      if (options.stepMs) await abortableSleep(options.stepMs, signal);
      onProgress({ step, state: 'done', detail: `${step} ok`, at: deps.now().toISOString() });
    }
    const report = options.report ?? SLOW_REPORT;
    await mkdir(req.incidentDir, { recursive: true });
    const reportJson = path.join(req.incidentDir, 'report.json');
    await writeFile(reportJson, JSON.stringify(report, null, 2));
    return { incidentDir: req.incidentDir, report, bundleSummary: null, files: [reportJson] };
  };
  runner.calls = 0;
  return runner;
}

/** Fails with the given errors, one per call, then behaves like reportRunner. */
export function flakyRunner(errors: unknown[]): PipelineRunner & { calls: number } {
  const ok = reportRunner();
  const runner = async (...args: Parameters<PipelineRunner>) => {
    runner.calls++;
    const err = errors.shift();
    if (err) throw err;
    return ok(...args);
  };
  runner.calls = 0;
  return runner;
}

/** Blocks until its signal fires (a hung server without per-step deadlines). */
export function blockingRunner(): PipelineRunner & { started: Promise<void> } {
  let markStarted!: () => void;
  const started = new Promise<void>((r) => (markStarted = r));
  const runner = async (_req: Parameters<PipelineRunner>[0], deps: Parameters<PipelineRunner>[1], signal: AbortSignal, onProgress: Parameters<PipelineRunner>[3]) => {
    onProgress({ step: 'capture baseline bundle', state: 'started', at: deps.now().toISOString() });
    markStarted();
    await abortableSleep(3_600_000, signal);
    throw new TriageError('E_ABORTED', 'unreachable');
  };
  return Object.assign(runner, { started });
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new TriageError('E_ABORTED', 'aborted', { cause: signal.reason }));
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new TriageError('E_ABORTED', 'aborted', { cause: signal.reason }));
    }, { once: true });
  });
}
