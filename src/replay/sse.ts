/**
 * Incremental parser for SGLang's `/generate` streaming body (server-sent events).
 *
 * SGLang writes one `data: <json>` line per event followed by a blank line, ends with
 * `data: [DONE]`, and reports a mid-stream failure as `data: {"error": {...}}` (then `[DONE]`).
 * The parser accepts any SSE framing (LF, CRLF or CR line ends, multi-line `data:` fields,
 * comments, other fields) and is fed raw body chunks as they arrive, so TTFT and inter-token gaps
 * are measured at arrival, not after the whole body was read.
 */

export type SseEvent =
  | { type: 'data'; json: Record<string, unknown> }
  | { type: 'error'; message: string; json: unknown }
  | { type: 'done' }
  /** A `data:` payload that is not JSON (or not an object): kept for the outcome, never thrown. */
  | { type: 'malformed'; raw: string };

export class SseLimitError extends Error {
  override readonly name = 'SseLimitError';
}

export interface SseParserOptions {
  /** Largest single event we buffer, in characters (a cumulative-text chunk can be large). */
  maxEventChars?: number;
}

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly maxEventChars: number;
  /** Text received but not yet split into lines. */
  private pending = '';
  /** `data:` lines of the event being assembled. */
  private dataLines: string[] = [];
  private dataChars = 0;
  /** A CR ended the previous chunk: a leading LF in the next chunk belongs to it. */
  private lastWasCR = false;

  constructor(options: SseParserOptions = {}) {
    this.maxEventChars = options.maxEventChars ?? 32 * 1024 * 1024;
  }

  /** Feeds one body chunk; returns the events it completed (possibly none). */
  push(chunk: Uint8Array): SseEvent[] {
    return this.consume(this.decoder.decode(chunk, { stream: true }), false);
  }

  /** The body ended: flushes a last event that had no blank line after it. */
  end(): SseEvent[] {
    const events = this.consume(this.decoder.decode(), true);
    if (this.dataLines.length) events.push(this.dispatch());
    return events;
  }

  private consume(text: string, final: boolean): SseEvent[] {
    let buf = this.pending + text;
    if (this.lastWasCR && buf.startsWith('\n')) buf = buf.slice(1);
    this.lastWasCR = false;
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const lf = buf.indexOf('\n', start);
      const cr = buf.indexOf('\r', start);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr + 1 < buf.length) next = buf[cr + 1] === '\n' ? cr + 2 : cr + 1;
        else {
          next = cr + 1;
          this.lastWasCR = true;
        }
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else break;
      const event = this.line(buf.slice(start, end));
      if (event) events.push(event);
      start = next;
    }
    this.pending = buf.slice(start);
    if (this.pending.length + this.dataChars > this.maxEventChars) {
      throw new SseLimitError(`one server-sent event exceeds ${this.maxEventChars} characters`);
    }
    if (final && this.pending.length) {
      const event = this.line(this.pending);
      this.pending = '';
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | null {
    if (line === '') return this.dataLines.length ? this.dispatch() : null;
    if (line.startsWith(':')) return null; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data') return null; // event:, id:, retry: carry nothing SGLang uses
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.dataLines.push(value);
    this.dataChars += value.length + 1;
    if (this.dataChars > this.maxEventChars) {
      throw new SseLimitError(`one server-sent event exceeds ${this.maxEventChars} characters`);
    }
    return null;
  }

  private dispatch(): SseEvent {
    const raw = this.dataLines.join('\n');
    this.dataLines = [];
    this.dataChars = 0;
    return classifyData(raw);
  }
}

/** Turns one event's data payload into an SseEvent. */
export function classifyData(raw: string): SseEvent {
  const trimmed = raw.trim();
  if (trimmed === '[DONE]') return { type: 'done' };
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    return { type: 'malformed', raw: trimmed.slice(0, 200) };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { type: 'malformed', raw: trimmed.slice(0, 200) };
  const obj = json as Record<string, unknown>;
  if ('error' in obj && obj.error !== null && obj.error !== undefined) {
    return { type: 'error', message: errorMessage(obj.error), json };
  }
  return { type: 'data', json: obj };
}

/** `{"error": {"message": "..."}}`, `{"error": "..."}` or `{"object":"error","message":"..."}`. */
export function errorMessage(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const msg = (value as Record<string, unknown>).message;
    if (typeof msg === 'string') return msg;
    try {
      return JSON.stringify(value).slice(0, 500);
    } catch {
      return 'unprintable error';
    }
  }
  return String(value);
}
