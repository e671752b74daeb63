/**
 * Sends one `/generate` request with undici and measures it: TTFT and inter-token gaps for
 * streams (events timed as they arrive), total latency and meta_info for non-stream answers.
 * Every request has its own deadline and follows the replay-wide stop signal. Never throws.
 */
import type { Dispatcher } from 'undici';
import { classifyTransportError, type Outcome, type Phase, type StopReason } from './outcome.js';
import type { Clock } from './schedule.js';
import { errorMessage, SseLimitError, SseParser } from './sse.js';

export interface SendTarget {
  dispatcher: Dispatcher;
  origin: string;
  /** Path of /generate under the target's base path. */
  path: string;
  headers: Record<string, string>;
  clock: Clock;
  timeoutMs: number;
  maxBodyBytes: number;
  /**
   * Replay-wide stop: the engine keeps the in-flight controllers and aborts them with a StopReason.
   * (A Set beats one 'abort' listener per request on a shared signal at thousands of requests/s.)
   * Returns the function that unregisters the controller.
   */
  track(ac: AbortController): () => void;
  /** Called when the target shows life: a status line, or body bytes. `at` is clock.now(). */
  onAnswer(at: number): void;
  onBytes(at: number): void;
}

export interface Measured {
  outcome: Outcome;
  status: number | null;
  /** Stream only: first data event. */
  ttftMs: number | null;
  e2eMs: number | null;
  /** Gaps between successive stream events (ms). */
  gaps: number[];
  promptTokens: number | null;
  completionTokens: number | null;
  finishReason: string | null;
  bytes: number;
  /** clock.now() values; null when not reached. */
  answeredAt: number | null;
  /** Last status line or body byte on this request (clock.now()); null when none came. */
  lastByteAt: number | null;
  endedAt: number;
}

const DEADLINE = Symbol('deadline');
const TOO_LARGE = Symbol('too-large');
const ERROR_BODY_BYTES = 64 * 1024;

/** Server-reported counters and finish reason from a response (or the last stream chunk). */
interface Meta {
  promptTokens: number | null;
  completionTokens: number | null;
  finishReason: string | null;
  abortMessage: string | null;
}

/** A request's measurements before anything arrived: the one shape every outcome starts from. */
export function measured(outcome: Outcome, at: number): Measured {
  return { outcome, status: null, ttftMs: null, e2eMs: null, gaps: [], promptTokens: null, completionTokens: null, finishReason: null, bytes: 0, answeredAt: null, lastByteAt: null, endedAt: at };
}

export async function sendOne(body: string, target: SendTarget): Promise<Measured> {
  const { clock } = target;
  const startAt = clock.now();
  const ac = new AbortController();
  const cancelDeadline = clock.setTimer(() => ac.abort(DEADLINE), target.timeoutMs);
  const untrack = target.track(ac);

  let phase: Phase = 'response';
  const m = measured({ kind: 'ok', finishReason: null }, startAt);
  const finish = (outcome: Outcome): Measured => {
    cancelDeadline();
    untrack();
    m.endedAt = clock.now();
    m.e2eMs = m.endedAt - startAt;
    m.outcome = outcome;
    return m;
  };

  try {
    const res = await target.dispatcher.request({
      origin: target.origin,
      path: target.path,
      method: 'POST',
      headers: target.headers,
      body,
      signal: ac.signal,
    });
    m.answeredAt = clock.now();
    m.lastByteAt = m.answeredAt;
    m.status = res.statusCode;
    target.onAnswer(m.answeredAt);
    const type = String(res.headers['content-type'] ?? '');
    const bodyStream = res.body as AsyncIterable<Buffer>;

    if (res.statusCode < 200 || res.statusCode >= 300) {
      phase = 'body';
      const text = await readCapped(bodyStream, ERROR_BODY_BYTES, m, target, true);
      return finish({ kind: 'http-error', status: res.statusCode, source: 'status', message: errorBodyMessage(text) });
    }

    if (type.includes('text/event-stream')) {
      phase = 'first-token';
      return finish(await readStream(bodyStream, m, target, ac, startAt, () => (phase = 'body')));
    }

    phase = 'body';
    const text = await readCapped(bodyStream, target.maxBodyBytes, m, target, false, ac);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return finish({ kind: 'bad-body', reason: 'malformed', message: `response is not JSON: ${text.slice(0, 120)}` });
    }
    const meta = metaOf(json);
    Object.assign(m, { promptTokens: meta.promptTokens, completionTokens: meta.completionTokens, finishReason: meta.finishReason });
    if (meta.abortMessage !== null) return finish({ kind: 'http-error', status: res.statusCode, source: 'abort-finish', message: meta.abortMessage });
    return finish({ kind: 'ok', finishReason: meta.finishReason });
  } catch (err) {
    const reason: unknown = ac.signal.aborted ? ac.signal.reason : undefined;
    const elapsed = clock.now() - startAt;
    if (reason === DEADLINE) return finish({ kind: 'timeout', phase, afterMs: elapsed, idleMs: clock.now() - (m.lastByteAt ?? startAt) });
    if (reason === TOO_LARGE || err instanceof SseLimitError) {
      return finish({ kind: 'bad-body', reason: 'too-large', message: `response body over ${target.maxBodyBytes} bytes` });
    }
    if (reason === 'signal' || reason === 'target-hung' || reason === 'server-died') {
      return finish({ kind: 'aborted', reason: reason as StopReason, phase });
    }
    if (ac.signal.aborted) return finish({ kind: 'aborted', reason: 'signal', phase });
    return finish(classifyTransportError(err, phase, elapsed));
  }
}

async function readStream(
  body: AsyncIterable<Buffer>,
  m: Measured,
  target: SendTarget,
  ac: AbortController,
  startAt: number,
  onFirst: () => void,
): Promise<Outcome> {
  const parser = new SseParser({ maxEventChars: target.maxBodyBytes });
  const { clock } = target;
  let last: Record<string, unknown> | null = null;
  let lastEventAt: number | null = null;
  let events = 0;
  let streamError: string | null = null;
  let done = false;
  const handle = (evs: ReturnType<SseParser['push']>, at: number) => {
    for (const ev of evs) {
      if (ev.type === 'done') done = true;
      else if (ev.type === 'error') streamError ??= ev.message;
      else if (ev.type === 'malformed') streamError ??= `malformed event: ${ev.raw.slice(0, 80)}`;
      else {
        events++;
        if (lastEventAt === null) {
          m.ttftMs = at - startAt;
          onFirst();
        } else m.gaps.push(at - lastEventAt);
        lastEventAt = at;
        last = ev.json;
      }
    }
  };
  for await (const chunk of body) {
    const at = clock.now();
    target.onBytes(at);
    m.lastByteAt = at;
    m.bytes += chunk.length;
    if (m.bytes > target.maxBodyBytes) {
      ac.abort(TOO_LARGE);
      return { kind: 'bad-body', reason: 'too-large', message: `response body over ${target.maxBodyBytes} bytes` };
    }
    handle(parser.push(chunk), at);
  }
  handle(parser.end(), clock.now());
  const meta = metaOf(last);
  m.promptTokens = meta.promptTokens;
  m.finishReason = meta.finishReason;
  m.completionTokens = meta.completionTokens ?? outputIdsLength(last) ?? (events || null);
  if (streamError !== null) return { kind: 'http-error', status: m.status ?? 200, source: 'stream-error', message: streamError };
  if (meta.abortMessage !== null) return { kind: 'http-error', status: m.status ?? 200, source: 'abort-finish', message: meta.abortMessage };
  if (!done && meta.finishReason === null) {
    return { kind: 'bad-body', reason: 'truncated', message: `stream ended after ${events} events without [DONE] or a finish_reason` };
  }
  return { kind: 'ok', finishReason: meta.finishReason };
}

async function readCapped(
  body: AsyncIterable<Buffer>,
  cap: number,
  m: Measured,
  target: SendTarget,
  truncate: boolean,
  ac?: AbortController,
): Promise<string> {
  const parts: Buffer[] = [];
  let kept = 0;
  for await (const chunk of body) {
    m.lastByteAt = target.clock.now();
    target.onBytes(m.lastByteAt);
    m.bytes += chunk.length;
    if (kept + chunk.length > cap) {
      if (!truncate) {
        ac?.abort(TOO_LARGE);
        throw new SseLimitError('too large');
      }
      parts.push(chunk.subarray(0, Math.max(0, cap - kept)));
      kept = cap;
      continue; // keep draining so the connection can be reused
    }
    parts.push(chunk);
    kept += chunk.length;
  }
  return Buffer.concat(parts).toString('utf8');
}

function errorBodyMessage(text: string): string {
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    if (json && typeof json === 'object') {
      if ('error' in json) return errorMessage(json.error).slice(0, 300);
      if (typeof json.message === 'string') return json.message.slice(0, 300);
      if (typeof json.detail === 'string') return json.detail.slice(0, 300);
    }
  } catch {
    // not JSON: use the text
  }
  return text.trim().slice(0, 300);
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** meta_info of a response, a stream chunk, or a batch (list) response (counts summed). */
function metaOf(json: unknown): Meta {
  const meta: Meta = { promptTokens: null, completionTokens: null, finishReason: null, abortMessage: null };
  const items = Array.isArray(json) ? json : [json];
  for (const item of items) {
    if (!item || typeof item !== 'object') continue;
    const info = (item as Record<string, unknown>).meta_info;
    if (!info || typeof info !== 'object') continue;
    const mi = info as Record<string, unknown>;
    const p = num(mi.prompt_tokens);
    const c = num(mi.completion_tokens);
    if (p !== null) meta.promptTokens = (meta.promptTokens ?? 0) + p;
    if (c !== null) meta.completionTokens = (meta.completionTokens ?? 0) + c;
    const fr = mi.finish_reason;
    if (fr && typeof fr === 'object') {
      const type = (fr as Record<string, unknown>).type;
      if (typeof type === 'string') meta.finishReason ??= type;
      if (type === 'abort') meta.abortMessage ??= String((fr as Record<string, unknown>).message ?? 'aborted by the server');
    } else if (typeof fr === 'string') meta.finishReason ??= fr;
  }
  return meta;
}

function outputIdsLength(json: unknown): number | null {
  if (!json || typeof json !== 'object') return null;
  const ids = (json as Record<string, unknown>).output_ids;
  return Array.isArray(ids) ? ids.length : null;
}
