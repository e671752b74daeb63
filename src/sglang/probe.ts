import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';

/**
 * One HTTP GET against a server, as a value: every way it can end is a member of this union.
 * Nothing here throws for a server's behaviour; only programming errors escape.
 */
export type ProbeOutcome =
  | { kind: 'ok'; status: number; body: string; contentType: string | null; elapsedMs: number }
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
  /** Parse the body as JSON and report bad-body when it is not. */
  expectJson?: boolean;
  dispatcher?: Dispatcher;
  /** The caller's signal (overall deadline, Ctrl-C). */
  signal?: AbortSignal;
  now?: () => number;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAX_JSON_DEPTH = 1000;

/** Bracket depth of a JSON text, skipping strings; one pass, no recursion. */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) max = Math.max(max, ++depth);
    else if (c === 125 || c === 93) depth--;
  }
  return max;
}

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
  const body = Buffer.concat(chunks).toString('utf8');
  const status = response.statusCode;
  if (status < 200 || status >= 300) return { kind: 'http-error', status, body, elapsedMs: elapsed() };
  if (options.expectJson) {
    try {
      JSON.parse(body);
    } catch (err) {
      return { kind: 'bad-body', status, elapsedMs: elapsed(), message: `response was not valid JSON: ${(err as Error).message}`, preview: body.slice(0, 200) };
    }
    // JSON.parse takes any depth but JSON.stringify (when we write the bundle) overflows the stack.
    if (nestingDepth(body) > MAX_JSON_DEPTH) {
      return { kind: 'bad-body', status, elapsedMs: elapsed(), message: `response nests deeper than ${MAX_JSON_DEPTH} levels`, preview: body.slice(0, 200) };
    }
  }
  const contentType = response.headers['content-type'];
  return { kind: 'ok', status, body, contentType: typeof contentType === 'string' ? contentType : null, elapsedMs: elapsed() };
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
