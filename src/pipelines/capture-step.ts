import path from 'node:path';
import { resolveToken } from '../config/servers.js';
import { captureBundle, type CaptureResult } from '../evidence/bundle/capture.js';
import { readBundleFiles } from '../evidence/bundle/read.js';
import { summariseBundle, type BundleRole, type BundleSummary } from '../evidence/bundle/summary.js';
import { DEFAULT_TIMEOUT_S, HEALTH_TIMEOUT_S } from '../sglang/endpoints.js';
import { renderBundleSummary } from '../../templates/bundle-summary.js';
import type { Dispatcher } from 'undici';
import { writeFileAtomic } from '../fsutil/atomic-write.js';

export interface CaptureStepInput {
  baseUrl: string;
  outDir: string;
  role: BundleRole;
  serverName?: string;
  token?: string;
  adminToken?: string;
  timeoutS?: number;
  healthTimeoutS?: number;
  /** Scrape /metrics again this many seconds later (rates over a window). */
  windowS?: number;
  /** Per-endpoint body cap (default 64 MiB). */
  maxBodyBytes?: number;
  dispatcher?: Dispatcher;
  signal: AbortSignal;
  now: () => Date;
  onEndpoint?: (file: string, outcome: string, ms: number) => void;
}

export interface CaptureStepResult {
  capture: CaptureResult;
  summary: BundleSummary;
  summaryText: string;
}

/** Capture a bundle, then summarise it from the files just written (the same path `route` reads). */
export async function captureStep(input: CaptureStepInput): Promise<CaptureStepResult> {
  const timeoutS = input.timeoutS ?? DEFAULT_TIMEOUT_S;
  const capture = await captureBundle({
    baseUrl: input.baseUrl,
    outDir: input.outDir,
    token: input.token,
    ...(input.adminToken ? { adminToken: input.adminToken } : {}),
    timeoutS,
    // An explicit --timeout above the health budget also lifts the health probes.
    healthTimeoutS: input.healthTimeoutS ?? Math.max(timeoutS, HEALTH_TIMEOUT_S),
    serverName: input.serverName,
    ...(input.windowS ? { windowS: input.windowS } : {}),
    ...(input.maxBodyBytes ? { maxBodyBytes: input.maxBodyBytes } : {}),
    dispatcher: input.dispatcher,
    signal: input.signal,
    now: input.now,
    onEndpoint: (r) => input.onEndpoint?.(r.spec.file, r.outcome.kind, r.outcome.elapsedMs),
  });
  const raw = await readBundleFiles(capture.bundleDir);
  raw.metadata.role = input.role;
  const summary = summariseBundle(raw, input.role);
  const summaryText = renderBundleSummary(summary);
  await writeFileAtomic(path.join(capture.bundleDir, 'SUMMARY.txt'), summaryText);
  await writeFileAtomic(path.join(capture.bundleDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  // Record the role so `route` knows a baseline from a replay-time bundle whatever the folder is called.
  const metaFile = path.join(capture.bundleDir, 'metadata.json');
  await writeFileAtomic(metaFile, `${JSON.stringify({ ...raw.metadata, role: input.role }, null, 2)}\n`);
  return { capture, summary, summaryText };
}

export function tokenFor(server: { tokenEnv?: string }, env: Record<string, string | undefined>, explicit?: string): string | undefined {
  return explicit ?? resolveToken(server.tokenEnv, env) ?? (env.SGLANG_BEARER_TOKEN || undefined);
}

export function adminTokenFor(server: { adminTokenEnv?: string }, env: Record<string, string | undefined>): string | undefined {
  return resolveToken(server.adminTokenEnv, env);
}
