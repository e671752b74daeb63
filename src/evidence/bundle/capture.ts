import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { trimTrailingSlashes } from '../../util/trim-slashes.js';
import { TriageError } from '../../errors.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUNDLE_ENDPOINTS, resolveCaptureTimeouts, type EndpointSpec } from '../../sglang/endpoints.js';
import { captureAgent, DEFAULT_MAX_BODY_BYTES, probe, type ProbeOutcome } from '../../sglang/probe.js';
import { redactConfigString, redactText, redactValue } from '../../sglang/redact.js';
import { writeFileAtomic } from '../../fsutil/atomic-write.js';
import { WINDOW_METRICS_FILE } from './read.js';

export interface CaptureOptions {
  baseUrl: string;
  outDir: string;
  token?: string;
  /** Admin key for ADMIN_OPTIONAL routes (/hicache/storage-backend); falls back to `token`. */
  adminToken?: string;
  /** Per-request timeout, seconds; when given alone it bounds the health probes too (resolveCaptureTimeouts). */
  timeoutS?: number;
  /** Per-request timeout for /health and /health_generate, seconds (default 25: SGLang's probe takes 20). */
  healthTimeoutS?: number;
  /** Scrape /metrics again this many seconds after the bundle, so rates cover a window, not the lifetime. */
  windowS?: number;
  maxBodyBytes?: number;
  serverName?: string;
  dispatcher?: Dispatcher;
  signal: AbortSignal;
  now: () => Date;
  onEndpoint?: (result: EndpointResult) => void;
}

/** What one bundle endpoint gave, after fallbacks. */
export interface EndpointResult {
  spec: EndpointSpec;
  /** The path that produced the final outcome (a fallback on older servers). */
  path: string;
  outcome: ProbeOutcome;
  attempts: Array<{ path: string; kind: ProbeOutcome['kind']; status?: number }>;
}

export interface CaptureResult {
  bundleDir: string;
  baseUrl: string;
  collectedAt: string;
  elapsedMs: number;
  deadlineMs: number;
  timeoutS: number;
  healthTimeoutS: number;
  endpoints: EndpointResult[];
  window: WindowResult | null;
}

/** The second /metrics scrape of a window capture. */
export interface WindowResult {
  secondsRequested: number;
  /** Between the two /metrics answers, as measured. */
  seconds: number;
  outcome: ProbeOutcome;
}

/**
 * Reads every bundle endpoint in parallel, each with its own timeout, all under one deadline,
 * then writes the bundle. Secrets are redacted before anything touches disk.
 */
export async function captureBundle(options: CaptureOptions): Promise<CaptureResult> {
  const baseUrl = normaliseBaseUrl(options.baseUrl);
  const started = performance.now();
  const timeouts = resolveCaptureTimeouts({ timeoutS: options.timeoutS, healthTimeoutS: options.healthTimeoutS });
  const timeoutMs = Math.round(timeouts.timeoutS * 1000);
  const healthTimeoutMs = Math.round(timeouts.healthTimeoutS * 1000);
  // Fallbacks run only after a fast 404, so the slowest single request bounds the whole capture.
  const deadlineMs = Math.max(timeoutMs, healthTimeoutMs) + 1000;
  const deadline = AbortSignal.any([options.signal, AbortSignal.timeout(deadlineMs)]);
  const agent = options.dispatcher ?? captureAgent();
  const collectedAt = options.now();

  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  let metricsAnsweredAt: number | null = null;
  try {
    const endpoints = await Promise.all(
      BUNDLE_ENDPOINTS.map(async (spec) => {
        const result = await captureEndpoint(spec, baseUrl, {
          timeoutMs: spec.slow ? healthTimeoutMs : timeoutMs,
          maxBodyBytes,
          token: spec.admin ? (options.adminToken ?? options.token) : options.token,
          dispatcher: agent,
          signal: deadline,
        });
        if (spec.file === 'metrics.txt') metricsAnsweredAt = performance.now();
        options.onEndpoint?.(result);
        return result;
      }),
    );
    if (options.signal.aborted) throw new TriageError('E_ABORTED', 'capture aborted', { cause: options.signal.reason });
    const elapsedMs = Math.round(performance.now() - started);
    const firstMetrics = endpoints.find((e) => e.spec.file === 'metrics.txt')!.outcome;
    let window: WindowResult | null = null;
    if (options.windowS && options.windowS > 0) {
      // No first scrape, no window: recorded as such rather than waited for.
      window =
        firstMetrics.kind === 'ok' && metricsAnsweredAt !== null
          ? await scrapeWindow(baseUrl, options.windowS, metricsAnsweredAt, { timeoutMs, maxBodyBytes, token: options.token, dispatcher: agent, signal: options.signal })
          : { secondsRequested: options.windowS, seconds: 0, outcome: firstMetrics };
    }
    const result: CaptureResult = {
      bundleDir: path.resolve(options.outDir),
      baseUrl,
      collectedAt: collectedAt.toISOString(),
      elapsedMs,
      deadlineMs,
      timeoutS: timeouts.timeoutS,
      healthTimeoutS: timeouts.healthTimeoutS,
      endpoints,
      window,
    };
    await writeBundleFiles(result, options);
    return result;
  } finally {
    if (!options.dispatcher) await (agent as { destroy(): Promise<void> }).destroy().catch(() => undefined);
  }
}

/** Waits until `seconds` after the first /metrics answer, then scrapes /metrics once more. */
async function scrapeWindow(
  baseUrl: string,
  seconds: number,
  firstAt: number,
  opts: { timeoutMs: number; maxBodyBytes: number; token?: string; dispatcher: Dispatcher; signal: AbortSignal },
): Promise<WindowResult> {
  const wait = Math.max(0, firstAt + seconds * 1000 - performance.now());
  try {
    await sleep(wait, undefined, { signal: opts.signal });
  } catch {
    throw new TriageError('E_ABORTED', 'capture aborted during its --window wait', { cause: opts.signal.reason });
  }
  const outcome = await probe(`${baseUrl}/metrics`, { ...opts });
  const answeredAt = performance.now();
  return { secondsRequested: seconds, seconds: Math.round(answeredAt - firstAt) / 1000, outcome };
}

async function captureEndpoint(
  spec: EndpointSpec,
  baseUrl: string,
  opts: { timeoutMs: number; maxBodyBytes: number; token?: string; dispatcher: Dispatcher; signal: AbortSignal },
): Promise<EndpointResult> {
  const attempts: EndpointResult['attempts'] = [];
  let lastPath = spec.path;
  let outcome: ProbeOutcome | undefined;
  for (const p of [spec.path, ...spec.fallbacks]) {
    lastPath = p;
    outcome = await probe(`${baseUrl}${p}`, { ...opts, expectJson: spec.format === 'json' });
    attempts.push({ path: p, kind: outcome.kind, ...('status' in outcome ? { status: outcome.status } : {}) });
    const missing = outcome.kind === 'http-error' && (outcome.status === 404 || outcome.status === 405);
    if (!missing) break;
  }
  return { spec, path: lastPath, outcome: outcome!, attempts };
}

export function normaliseBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TriageError('E_USAGE', `not a URL: "${url}" (expected e.g. http://10.0.0.5:30000)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TriageError('E_USAGE', `unsupported URL scheme "${parsed.protocol}" in ${url}: use http:// or https://`);
  }
  return `${parsed.origin}${trimTrailingSlashes(parsed.pathname)}`;
}

/** The reference tool's error strings, so its summariser reads our bundles the same way. */
export function outcomeError(outcome: ProbeOutcome): string {
  switch (outcome.kind) {
    case 'ok':
      return '';
    case 'http-error':
      return redactText(outcome.body.slice(0, 4000)) || `HTTP ${outcome.status}`;
    case 'timeout':
      return `TimeoutError: timed out after ${(outcome.timeoutMs / 1000).toFixed(1)}s`;
    case 'reset':
      return `ConnectionResetError: ${redactText(outcome.message)}`;
    case 'refused':
      return `ConnectionRefusedError: ${redactText(outcome.message)}`;
    case 'bad-body':
      return `BadBody: ${redactText(outcome.message)}`;
    case 'too-large':
      return `TooLarge: body exceeded ${outcome.limitBytes} bytes (saw ${outcome.seenBytes})`;
    case 'aborted':
      return 'Aborted: capture was cancelled';
  }
}

function statusOf(outcome: ProbeOutcome): number {
  return 'status' in outcome ? outcome.status : -1;
}

async function writeBundleFiles(result: CaptureResult, options: CaptureOptions): Promise<void> {
  const dir = result.bundleDir;
  try {
    await mkdir(dir, { recursive: true });
    // One endpoint that cannot be written (a hostile body) is one error file, never a lost bundle.
    await Promise.all(result.endpoints.map((e) => writeEndpointFile(dir, e).catch((err: unknown) => writeUnwritable(dir, e, err))));
    if (result.window?.outcome.kind === 'ok') await writeFileAtomic(path.join(dir, WINDOW_METRICS_FILE), redactText(result.window.outcome.body));
    const metadata = {
      artifact_type: 'incident_bundle',
      base_url: result.baseUrl,
      collected_at: formatCollectedAt(new Date(result.collectedAt)),
      collected_at_iso: result.collectedAt,
      token_provided: Boolean(options.token),
      timeout_seconds: result.timeoutS,
      health_timeout_seconds: result.healthTimeoutS,
      deadline_seconds: result.deadlineMs / 1000,
      elapsed_seconds: result.elapsedMs / 1000,
      server: options.serverName ?? null,
      tool: 'sglang-triage',
      endpoints: result.endpoints.map((e) => ({
        file: e.spec.file,
        path: e.path,
        outcome: e.outcome.kind,
        status: statusOf(e.outcome),
        elapsed_ms: e.outcome.elapsedMs,
        attempts: e.attempts,
      })),
      ...(result.window
        ? {
            window: {
              seconds_requested: result.window.secondsRequested,
              seconds: result.window.seconds,
              start_file: 'metrics.txt',
              end_file: WINDOW_METRICS_FILE,
              outcome: result.window.outcome.kind,
              ...(result.window.outcome.kind === 'ok' ? {} : { error: outcomeError(result.window.outcome) }),
            },
          }
        : {}),
    };
    await writeFileAtomic(path.join(dir, 'metadata.json'), `${JSON.stringify(metadata, null, 2)}\n`);
  } catch (err) {
    throw new TriageError('E_IO', `cannot write bundle to ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

async function writeEndpointFile(dir: string, e: EndpointResult): Promise<void> {
  const { spec, outcome } = e;
  if (spec.format === 'text') {
    if (outcome.kind === 'ok') {
      await writeFileAtomic(path.join(dir, spec.file), redactText(outcome.body));
    } else {
      await writeFileAtomic(path.join(dir, `${spec.file}.error.json`), `${JSON.stringify(failureRecord(e), null, 2)}\n`);
    }
    return;
  }
  const record =
    outcome.kind === 'ok'
      ? { ok: true, status: outcome.status, path: e.path, json: redactJsonBody(outcome.json !== undefined ? outcome.json : JSON.parse(outcome.body)) }
      : failureRecord(e);
  await writeFileAtomic(path.join(dir, spec.file), `${JSON.stringify(record, null, 2)}\n`);
}

async function writeUnwritable(dir: string, e: EndpointResult, err: unknown): Promise<void> {
  const file = e.spec.format === 'text' ? `${e.spec.file}.error.json` : e.spec.file;
  const record = { ok: false, status: statusOf(e.outcome), path: e.path, error: `BadBody: the response could not be written: ${redactText((err as Error).message ?? String(err)).slice(0, 500)}`, outcome: 'bad-body', elapsed_ms: e.outcome.elapsedMs };
  await writeFileAtomic(path.join(dir, file), `${JSON.stringify(record, null, 2)}\n`);
}

function failureRecord(e: EndpointResult) {
  return {
    ok: false,
    status: statusOf(e.outcome),
    path: e.path,
    error: outcomeError(e.outcome),
    outcome: e.outcome.kind,
    elapsed_ms: e.outcome.elapsedMs,
  };
}

function redactJsonBody(value: unknown): unknown {
  const redacted = redactValue(value);
  // hicache extra config is a JSON string with credentials inside; redactValue handles known keys,
  // this catches a top-level string config too.
  return typeof redacted === 'string' ? redactConfigString(redacted) : redacted;
}

/** The reference tool's `time.strftime("%Y%m%d_%H%M%S")`. */
export function formatCollectedAt(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

