/**
 * A bounded splitter for Chrome trace JSON (what torch.profiler's `export_chrome_trace` writes).
 *
 * It does not parse JSON itself. It tracks only nesting depth and string state, so it can hand each
 * complete element of the `traceEvents` array (and a few small top-level members) to the caller as
 * text, which the caller gives to V8's native `JSON.parse` when it wants the event. State is carried
 * across chunks, so no byte is scanned twice, and memory is one pending element (capped) plus a key.
 *
 * Why not a streaming JSON library: @streamparser/json 0.0.26 (the well-kept candidate whose engines
 * accept Node 20) builds every value through a character-level tokenizer in JavaScript; on a 100 MB
 * torch trace it took 9.4–11.2 s only to hand over the events, against 2.3–2.8 s for this splitter with
 * JSON.parse and the whole summary (same box, same run), and most events (cpu_op with record_shapes
 * args) need not be parsed at all. bench/profile.bench.ts compares against CPython.
 */

export interface ScannerLimits {
  /** An element longer than this is counted and dropped, never buffered further. */
  maxElementChars: number;
}

export const DEFAULT_SCANNER_LIMITS: ScannerLimits = { maxElementChars: 4 * 1024 * 1024 };

export interface ScannerSink {
  /** One complete element of `traceEvents` (or of a root array), as JSON text. */
  event(text: string): void;
  /** A complete object/array value of a top-level member whose key `wantMember` accepted. */
  member(key: string, text: string): void;
}

export interface ScannerState {
  rootKind: 'object' | 'array' | null;
  sawTraceEvents: boolean;
  /** The root value was closed: the document is complete. */
  complete: boolean;
  elements: number;
  oversized: number;
}

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_OBJ = 123;
const CLOSE_OBJ = 125;
const OPEN_ARR = 91;
const CLOSE_ARR = 93;
const COLON = 58;
const COMMA = 44;
const MAX_KEY_CHARS = 256;

interface Capture {
  kind: 'event' | 'member';
  key: string;
  /** Depth outside the captured value: it is complete when depth returns here. */
  depth: number;
  parts: string[];
  size: number;
  oversized: boolean;
}

export class TraceEventScanner {
  readonly state: ScannerState = { rootKind: null, sawTraceEvents: false, complete: false, elements: 0, oversized: 0 };
  private depth = 0;
  private inString = false;
  /** Backslashes that ended the previous chunk inside a string (their parity decides the next quote). */
  private carriedBackslashes = 0;
  /** Depth at which elements of the events array open; -1 when not inside it. */
  private eventsDepth = -1;
  private expectKey = false;
  private keyParts: string[] | null = null;
  private lastKey = '';
  private capture: Capture | null = null;

  constructor(
    private readonly sink: ScannerSink,
    private readonly wantMember: (key: string) => boolean,
    private readonly limits: ScannerLimits = DEFAULT_SCANNER_LIMITS,
  ) {}

  write(s: string): void {
    const n = s.length;
    let i = 0;
    let captureStart = 0;
    let keyStart = 0;
    while (i < n) {
      if (this.inString) {
        const regionStart = i;
        let q = s.indexOf('"', i);
        while (q >= 0) {
          let j = q - 1;
          while (j >= regionStart && s.charCodeAt(j) === BACKSLASH) j--;
          let slashes = q - 1 - j;
          if (j < regionStart) slashes += this.carriedBackslashes;
          if ((slashes & 1) === 0) break;
          q = s.indexOf('"', q + 1);
          this.carriedBackslashes = 0;
        }
        if (q < 0) {
          let j = n - 1;
          while (j >= regionStart && s.charCodeAt(j) === BACKSLASH) j--;
          this.carriedBackslashes = (n - 1 - j) + (j < regionStart ? this.carriedBackslashes : 0);
          i = n;
          break;
        }
        this.carriedBackslashes = 0;
        this.inString = false;
        if (this.keyParts) {
          this.keyParts.push(s.slice(keyStart, q));
          this.lastKey = this.keyParts.join('').slice(0, MAX_KEY_CHARS);
          this.keyParts = null;
        }
        i = q + 1;
        continue;
      }
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        this.inString = true;
        if (this.depth === 1 && this.expectKey && !this.capture) {
          this.keyParts = [];
          keyStart = i + 1;
        }
      } else if (c === OPEN_OBJ || c === OPEN_ARR) {
        if (this.depth === 0 && this.state.rootKind === null) {
          this.state.rootKind = c === OPEN_OBJ ? 'object' : 'array';
          if (c === OPEN_ARR) {
            this.eventsDepth = 1;
            this.state.sawTraceEvents = true;
          }
          this.expectKey = c === OPEN_OBJ;
        } else if (!this.capture) {
          if (this.depth === this.eventsDepth) {
            this.capture = { kind: 'event', key: '', depth: this.depth, parts: [], size: 0, oversized: false };
            captureStart = i;
          } else if (this.depth === 1 && this.state.rootKind === 'object' && !this.expectKey) {
            if (c === OPEN_ARR && this.lastKey === 'traceEvents' && this.eventsDepth < 0) {
              this.eventsDepth = 2;
              this.state.sawTraceEvents = true;
            } else if (this.wantMember(this.lastKey)) {
              this.capture = { kind: 'member', key: this.lastKey, depth: 1, parts: [], size: 0, oversized: false };
              captureStart = i;
            }
          }
        }
        this.depth++;
      } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
        this.depth--;
        const cap = this.capture;
        if (cap && this.depth === cap.depth) {
          this.finish(cap, s, captureStart, i + 1);
          this.capture = null;
        } else if (this.depth === this.eventsDepth - 1 && c === CLOSE_ARR && this.state.rootKind === 'object') {
          this.eventsDepth = -1;
        }
        if (this.depth === 0) this.state.complete = true;
      } else if (this.depth === 1 && this.state.rootKind === 'object') {
        if (c === COLON) this.expectKey = false;
        else if (c === COMMA) this.expectKey = true;
      }
      i++;
    }
    if (this.capture) this.keep(this.capture, s.slice(captureStart));
    if (this.keyParts && this.keyParts.join('').length < MAX_KEY_CHARS) this.keyParts.push(s.slice(keyStart));
  }

  private keep(cap: Capture, text: string): void {
    if (cap.oversized) return;
    cap.size += text.length;
    if (cap.size > this.limits.maxElementChars) {
      cap.oversized = true;
      cap.parts = [];
      return;
    }
    cap.parts.push(text);
  }

  private finish(cap: Capture, s: string, start: number, end: number): void {
    if (cap.kind === 'event') this.state.elements++;
    if (!cap.oversized && cap.size + (end - start) > this.limits.maxElementChars) cap.oversized = true;
    if (cap.oversized) {
      this.state.oversized++;
      return;
    }
    const tail = s.slice(start, end);
    const text = cap.parts.length ? cap.parts.join('') + tail : tail;
    if (cap.kind === 'event') this.sink.event(text);
    else this.sink.member(cap.key, text);
  }
}
