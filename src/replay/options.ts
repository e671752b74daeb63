/** Replay options as given, their resolved form, and the /generate body built for each request. */
import { TriageError } from '../errors.js';
import { trimTrailingSlashes } from '../util/trim-slashes.js';
import type { ReplayRequest } from './types.js';

/**
 * Default in-flight cap: 512, as the stock script. The point of a replay is the recorded overlap of
 * requests (batch composition decides many crashes and hangs); a cap of 1 (the trusted script's
 * default) would serialise requests that ran together in production. Pass --parallel 1 to replay
 * one saved request at a time.
 */
export const DEFAULT_PARALLEL = 512;
export const DEFAULT_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface ReplayOptions {
  /** Base URL of the target (http://host:port[/prefix]); `/generate` is appended unless present. */
  target: string;
  /** Bearer token; sent as `Authorization: Bearer …` when set. Never written anywhere. */
  token?: string;
  parallel?: number;
  speed?: number;
  ignoreEos?: boolean;
  timeoutMs?: number;
  reqStart?: number;
  reqNumber?: number;
  /** Per-request cap on response bytes. */
  maxBodyBytes?: number;
  /** Stop sending once the target is hung or dead (default true); the rest are recorded as not-sent. */
  stopWhenTargetGone?: boolean;
}

export interface ResolvedOptions {
  target: string;
  auth: boolean;
  parallel: number;
  speed: number;
  ignoreEos: boolean;
  timeoutMs: number;
  reqStart: number;
  reqNumber: number | null;
  stopWhenTargetGone: boolean;
}

export function resolveOptions(o: ReplayOptions): ResolvedOptions {
  const parallel = o.parallel ?? DEFAULT_PARALLEL;
  const speed = o.speed ?? 1;
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(parallel) || parallel < 1) throw new TriageError('E_USAGE', `parallel must be a whole number >= 1, got ${parallel}`);
  if (!(speed > 0) || !Number.isFinite(speed)) throw new TriageError('E_USAGE', `speed must be a positive number, got ${speed}`);
  if (!(timeoutMs > 0)) throw new TriageError('E_USAGE', `timeout must be positive, got ${timeoutMs} ms`);
  return {
    target: generateUrl(o.target).toString(),
    auth: Boolean(o.token),
    parallel,
    speed,
    ignoreEos: o.ignoreEos ?? false,
    timeoutMs,
    reqStart: o.reqStart ?? 0,
    reqNumber: o.reqNumber ?? null,
    stopWhenTargetGone: o.stopWhenTargetGone ?? true,
  };
}

/** The /generate URL for a target base URL (credentials and query dropped). */
export function generateUrl(target: string): URL {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new TriageError('E_USAGE', `target must be an http(s) URL, got "${target}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TriageError('E_USAGE', `target must be an http(s) URL, got "${target}"`);
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  const base = trimTrailingSlashes(url.pathname);
  url.pathname = base.endsWith('/generate') ? base : `${base}/generate`;
  return url;
}

/** A fresh copy of the request's body (built now when the request carries a builder). */
export function bodyOf(req: ReplayRequest): Record<string, unknown> {
  return typeof req.body === 'function' ? req.body() : structuredClone(req.body);
}

/** The JSON body to send: the recorded one, with the recorded stream flag and --ignore-eos applied. */
export function prepareBody(req: ReplayRequest, ignoreEos: boolean): Record<string, unknown> {
  const body = bodyOf(req);
  body.stream = req.stream;
  if (ignoreEos) {
    const apply = (sp: unknown): Record<string, unknown> => {
      const out: Record<string, unknown> = sp && typeof sp === 'object' && !Array.isArray(sp) ? (sp as Record<string, unknown>) : {};
      out.ignore_eos = true;
      if (req.recordedCompletionTokens !== undefined && req.recordedCompletionTokens > 0) out.max_new_tokens = req.recordedCompletionTokens;
      return out;
    };
    body.sampling_params = Array.isArray(body.sampling_params) ? body.sampling_params.map(apply) : apply(body.sampling_params);
  }
  return body;
}

