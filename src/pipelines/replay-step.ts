import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { loadReplayRequests } from '../evidence/dump/load.js';
import type { IncidentPaths } from '../incident/layout.js';
import { runReplay } from '../replay/engine.js';
import { buildDocument, writeReplayJson } from '../replay/report.js';
import { captureStep } from './capture-step.js';

export interface ReplayStepInput {
  paths: IncidentPaths;
  target: string;
  token?: string;
  /** Request dumps replay one at a time; crash dumps keep their recorded overlap. */
  parallel: number;
  timeoutS: number;
  signal: AbortSignal;
  now: () => Date;
  dispatcher?: Dispatcher;
}

export type ReplayStepResult =
  | { kind: 'no-dumps' }
  | { kind: 'replayed'; file: string; reproduced: unknown; requests: number; bundleDir: string };

/** Replay the saved dumps on the clean target, then keep a replay-time bundle of that target. */
export async function replayStep(input: ReplayStepInput): Promise<ReplayStepResult> {
  const pkl = (await readdir(input.paths.dumps).catch(() => [] as string[])).filter((f) => f.endsWith('.pkl'));
  if (pkl.length === 0) return { kind: 'no-dumps' };
  const { requests, files } = await loadReplayRequests(input.paths.dumps, { signal: input.signal });
  const run = await runReplay(
    requests,
    { target: input.target, ...(input.token ? { token: input.token } : {}), parallel: input.parallel, timeoutMs: input.timeoutS * 1000 },
    { signal: input.signal, ...(input.dispatcher ? { dispatcher: input.dispatcher } : {}) },
  );
  const doc = buildDocument(run, { source: input.paths.dumps, files });
  const file = await writeReplayJson(input.paths.root, doc);
  // The scene right after the replay: a degraded bundle here is the hang's fingerprint.
  const bundleDir = path.join(input.paths.replay, 'bundle');
  await captureStep({ baseUrl: input.target, outDir: bundleDir, role: 'replay', timeoutS: 10, signal: input.signal, now: input.now, ...(input.token ? { token: input.token } : {}) });
  return { kind: 'replayed', file, reproduced: doc.reproduced, requests: run.results.length, bundleDir };
}
