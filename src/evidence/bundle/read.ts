import { constants as fsConstants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { BUNDLE_ENDPOINTS, type EndpointSpec } from '../../sglang/endpoints.js';
import { isObject } from '../../sglang/loads.js';

/** How an endpoint ended, as seen from the files of a bundle (ours or the reference tool's). */
export type EndpointState = 'ok' | 'http-error' | 'timeout' | 'reset' | 'refused' | 'bad-body' | 'too-large' | 'aborted' | 'missing';

export interface EndpointFile {
  file: string;
  path: string;
  state: EndpointState;
  status: number | null;
  error: string | null;
  /** Body for ok text endpoints (metrics, health) or parsed JSON for ok JSON endpoints. */
  text: string | null;
  json: unknown;
  /** How long the request took, from metadata.json (our bundles record it; the reference tool's do not). */
  elapsedMs: number | null;
}

export interface RawBundle {
  dir: string;
  metadata: Record<string, unknown>;
  endpoints: Record<string, EndpointFile>;
  /** The second /metrics scrape of `capture --window S`, when the bundle has one. */
  windowMetrics: string | null;
}

/** File of the second /metrics scrape taken `--window S` seconds after the bundle. */
export const WINDOW_METRICS_FILE = 'metrics_window.txt';

const MAX_ENDPOINT_FILE_BYTES = 256 * 1024 * 1024;

export async function readBundleFiles(dir: string): Promise<RawBundle> {
  const metadata = await readJson(path.join(dir, 'metadata.json'));
  const meta = isObject(metadata) ? metadata : {};
  const elapsed = elapsedByFile(meta);
  const read = await Promise.all(BUNDLE_ENDPOINTS.map(async (spec) => ({ ...(await readEndpoint(dir, spec)), elapsedMs: elapsed.get(spec.file) ?? null })));
  const endpoints: Record<string, EndpointFile> = Object.fromEntries(read.map((e) => [e.file, e]));
  const windowMetrics = isObject(meta.window) && meta.window.outcome === 'ok' ? await readText(path.join(dir, WINDOW_METRICS_FILE)) : null;
  return { dir, metadata: meta, endpoints, windowMetrics };
}

function elapsedByFile(metadata: Record<string, unknown>): Map<string, number> {
  const out = new Map<string, number>();
  if (!Array.isArray(metadata.endpoints)) return out;
  for (const e of metadata.endpoints) {
    if (isObject(e) && typeof e.file === 'string' && typeof e.elapsed_ms === 'number' && Number.isFinite(e.elapsed_ms)) out.set(e.file, e.elapsed_ms);
  }
  return out;
}

async function readEndpoint(dir: string, spec: EndpointSpec): Promise<EndpointFile> {
  const base: EndpointFile = { file: spec.file, path: spec.path, state: 'missing', status: null, error: null, text: null, json: undefined, elapsedMs: null };
  if (spec.format === 'text') {
    const errorRecord = await readJson(path.join(dir, `${spec.file}.error.json`));
    if (isObject(errorRecord)) return { ...base, ...failure(errorRecord) };
    const text = await readText(path.join(dir, spec.file));
    return text === null ? base : { ...base, state: 'ok', status: 200, text };
  }
  const record = await readJson(path.join(dir, spec.file));
  if (record === undefined) return base;
  if (record === INVALID) return { ...base, state: 'bad-body', error: 'file is not valid JSON' };
  if (isObject(record) && record.ok === false) return { ...base, ...failure(record) };
  if (isObject(record) && 'decode_error' in record) {
    return { ...base, state: 'bad-body', status: numberOr(record.status), error: String(record.decode_error) };
  }
  if (isObject(record) && 'json' in record && 'ok' in record) {
    return { ...base, state: 'ok', status: numberOr(record.status) ?? 200, json: record.json, path: typeof record.path === 'string' ? record.path : spec.path };
  }
  // A bare body saved by hand.
  return { ...base, state: 'ok', status: 200, json: record };
}

function failure(record: Record<string, unknown>): Pick<EndpointFile, 'state' | 'status' | 'error'> & { path?: string } {
  const status = numberOr(record.status);
  const error = typeof record.error === 'string' ? record.error : record.error === undefined ? null : JSON.stringify(record.error);
  const declared = typeof record.outcome === 'string' ? (record.outcome as EndpointState) : null;
  return { state: declared ?? classifyError(status, error), status, error, ...(typeof record.path === 'string' ? { path: record.path } : {}) };
}

/** Reads the reference tool's Python exception strings as outcomes. */
export function classifyError(status: number | null, error: string | null): EndpointState {
  const e = error ?? '';
  if (status !== null && status > 0) return 'http-error';
  if (/timed? ?out|TimeoutError|ReadTimeout/i.test(e)) return 'timeout';
  if (/refused|Errno 111|ECONNREFUSED|Name or service not known|No route to host/i.test(e)) return 'refused';
  if (/reset|Errno 104|ECONNRESET|RemoteDisconnected|closed connection|other side closed|EPIPE|BadStatusLine|IncompleteRead/i.test(e)) return 'reset';
  if (/TooLarge/i.test(e)) return 'too-large';
  if (/BadBody|not valid JSON/i.test(e)) return 'bad-body';
  return 'reset';
}

function numberOr(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

const INVALID = Symbol('invalid-json');

async function readJson(file: string): Promise<unknown> {
  const text = await readText(file);
  if (text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return INVALID;
  }
}

async function readText(file: string): Promise<string | null> {
  try {
    // No symlinks (a link could lead out of the incident folder), and O_NONBLOCK so a FIFO named
    // health.txt cannot block the read; anything but a regular file reads as missing.
    const handle = await open(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) return null;
      // Read at most the cap: a hand-placed multi-GB file must not reach memory whole.
      const size = Math.min(stat.size, MAX_ENDPOINT_FILE_BYTES);
      const buf = Buffer.alloc(size);
      const { bytesRead } = await handle.read(buf, 0, size, 0);
      return buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
}
