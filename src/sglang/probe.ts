import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import { checkJsonBudget, DEFAULT_JSON_BUDGET, type JsonBudget } from './json-budget.js';

/**
 * One HTTP GET against a server, as a value: every way it can end is a member of this union.
 * Nothing here throws for a server's behaviour; only programming errors escape.
 */
export type ProbeOutcome =
  /** `json` is the parsed body when JSON was expected (parsed once, within the JSON budget). */
  | { kind: 'ok'; status: number; body: string; contentType: string | null; elapsedMs: number; json?: unknown }
  | { kind: 'http-error'; status: number; body: string; elapsedMs: number }
  | { kind: 'timeout'; elapsedMs: number; timeoutMs: number }
  | { kind: 'reset'; elapsedMs: number; message: string }
  | { kind: 'refused'; elapsedMs: number; message: string }
  | { kind: 'bad-body'; status: number; elapsedMs: number; message: string; preview: string }
  | { kind: 'too-large'; status: number; elapsedMs: number; limitBytes: number; seenBytes: number }
  | { kind: 'aborted'; elapsedMs: number };

export type ProbeKind = ProbeOutcome['kind'];

export interface ProbeOptions {
  timeoutMs: number;
  /** Bodies past this are cut off and reported as too-large (a 2 GB /metrics must not reach memory). */
  maxBodyBytes: number;
  token?: string;
  /** Parse the body as JSON and report bad-body when it is not, or when it exceeds `jsonBudget`. */
  expectJson?: boolean;
  jsonBudget?: JsonBudget;
  dispatcher?: Dispatcher;
  /** The caller's signal (overall deadline, Ctrl-C). */
  signal?: AbortSignal;
  now?: () => number;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

export async function probe(url: string, options: ProbeOptions): Promise<ProbeOutcome> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const elapsed = () => Math.round(now() - started);
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const headers: Record<string, string> = { accept: options.expectJson ? 'application/json' : '*/*' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;

  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      method: 'GET',
      headers,
      signal,
      dispatcher: options.dispatcher,
      // undici's own timers as a second line of defence; the signal is the primary deadline.
      headersTimeout: options.timeoutMs + 1000,
      bodyTimeout: options.timeoutMs + 1000,
    });
  } catch (err) {
    return transportFailure(err, elapsed(), options, timeout);
  }

  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBodyBytes) {
    response.body.destroy();
    return { kind: 'too-large', status: response.statusCode, elapsedMs: elapsed(), limitBytes: options.maxBodyBytes, seenBytes: declared };
  }

  const chunks: Buffer[] = [];
  let seen = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (seen > options.maxBodyBytes) {
        response.body.destroy();
        return { kind: 'too-large', status: response.statusCode, elapsedMs: elapsed(), limitBytes: options.maxBodyBytes, seenBytes: seen };
      }
      chunks.push(chunk);
    }
  } catch (err) {
    return transportFailure(err, elapsed(), options, timeout);
  }
  const status = response.statusCode;
  const decoded = await decodeBody(Buffer.concat(chunks), response.headers['content-encoding'], options.maxBodyBytes);
  if (decoded.kind === 'too-large') return { kind: 'too-large', status, elapsedMs: elapsed(), limitBytes: options.maxBodyBytes, seenBytes: decoded.seenBytes };
  if (decoded.kind === 'bad') return { kind: 'bad-body', status, elapsedMs: elapsed(), message: decoded.message, preview: '' };
  const body = decoded.body.toString('utf8');
  if (status < 200 || status >= 300) return { kind: 'http-error', status, body, elapsedMs: elapsed() };
  const contentType = response.headers['content-type'];
  const ok = { kind: 'ok' as const, status, body, contentType: typeof contentType === 'string' ? contentType : null, elapsedMs: elapsed() };
  if (!options.expectJson) return ok;
  // Bounded before parsing: depth (JSON.stringify overflows the stack past ~10k levels) and value count.
  const budget = checkJsonBudget(body, options.jsonBudget ?? DEFAULT_JSON_BUDGET);
  if (!budget.ok) return { kind: 'bad-body', status, elapsedMs: elapsed(), message: budget.reason, preview: body.slice(0, 200) };
  try {
    return { ...ok, json: JSON.parse(body) as unknown };
  } catch (err) {
    return { kind: 'bad-body', status, elapsedMs: elapsed(), message: `response was not valid JSON: ${(err as Error).message}`, preview: body.slice(0, 200) };
  }
}

const isTooLarge = (err: unknown) => (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;

type Decoded = { kind: 'ok'; body: Buffer } | { kind: 'too-large'; seenBytes: number } | { kind: 'bad'; message: string };

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);
const brotli = promisify(zlib.brotliDecompress);

/**
 * Undici hands bodies over as sent. A compressed body is decoded with the same byte budget as the wire
 * (a small gzip bomb must not expand to gigabytes); an encoding we cannot decode is a bad body, never a
 * body of garbage read as an answer (a gzip-encoded /health must not count as ok).
 */
async function decodeBody(raw: Buffer, header: string | string[] | undefined, maxBytes: number): Promise<Decoded> {
  const codings = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c && c !== 'identity');
  let body = raw;
  // Codings are listed in the order they were applied: undo them from the last.
  for (const coding of codings.reverse()) {
    const opts = { maxOutputLength: maxBytes };
    try {
      if (coding === 'gzip' || coding === 'x-gzip') body = await gunzip(body, opts);
      else if (coding === 'br') body = await brotli(body, opts);
      // "deflate" is zlib-wrapped by the RFC; some servers send it raw.
      else if (coding === 'deflate') body = await inflate(body, opts).catch((err: unknown) => (isTooLarge(err) ? Promise.reject(err) : inflateRaw(body, opts)));
      else return { kind: 'bad', message: `unsupported content-encoding "${coding}": the body was not decoded` };
    } catch (err) {
      if (isTooLarge(err)) return { kind: 'too-large', seenBytes: maxBytes + 1 };
      return { kind: 'bad', message: `${coding} body could not be decoded: ${(err as Error).message}` };
    }
  }
  return { kind: 'ok', body };
}

function transportFailure(err: unknown, elapsedMs: number, options: ProbeOptions, timeout: AbortSignal): ProbeOutcome {
  if (timeout.aborted || isTimeoutError(err)) return { kind: 'timeout', elapsedMs, timeoutMs: options.timeoutMs };
  if (options.signal?.aborted) {
    // The overall deadline is a timeout from this request's point of view.
    const reason = options.signal.reason as { name?: string } | undefined;
    return reason?.name === 'TimeoutError' ? { kind: 'timeout', elapsedMs, timeoutMs: options.timeoutMs } : { kind: 'aborted', elapsedMs };
  }
  const code = errorCode(err);
  const message = errorMessage(err);
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EAI_AGAIN') {
    return { kind: 'refused', elapsedMs, message };
  }
  return { kind: 'reset', elapsedMs, message };
}

function isTimeoutError(err: unknown): boolean {
  return (
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError ||
    (err as { name?: string })?.name === 'TimeoutError'
  );
}

function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let i = 0; i < 4 && current; i++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('E') && !code.startsWith('UND_')) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return (err as { code?: string })?.code;
}

function errorMessage(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let i = 0; i < 3 && current; i++) {
    const msg = (current as Error).message;
    if (msg && !parts.includes(msg)) parts.push(msg);
    current = (current as { cause?: unknown }).cause;
  }
  const code = errorCode(err);
  return [code, ...parts].filter(Boolean).join(': ') || 'connection failed';
}

/** A dispatcher for one capture: destroyed afterwards so hung sockets cannot keep the process alive. */
export function captureAgent(): Agent {
  return new Agent({ keepAliveTimeout: 1000, connect: { timeout: 10_000 } });
}
