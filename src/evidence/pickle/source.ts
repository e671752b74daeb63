import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { TriageError } from '../../errors.js';
import type { TextStore } from './values.js';

/**
 * Where the reader's bytes come from. The reader asks for a window that holds at least `need`
 * bytes from an absolute offset; a file source slides a fixed window along the file so a 200 MB
 * dump never needs a 200 MB buffer next to the strings decoded from it (CPython's unpickler reads
 * frame by frame the same way).
 */
export interface ByteSource extends TextStore {
  readonly size: number;
  /** The buffers handed out never change (so values may keep views into them instead of copies). */
  readonly stable: boolean;
  /** A buffer and the range of it that starts at `offset`; fewer than `need` bytes only at end of input. */
  window(offset: number, need: number): { buf: Buffer; start: number; end: number };
  close(): void;
}

export class BufferSource implements ByteSource {
  readonly size: number;
  readonly stable = true;
  constructor(private readonly buf: Buffer) {
    this.size = buf.length;
  }
  window(offset: number): { buf: Buffer; start: number; end: number } {
    return { buf: this.buf, start: offset, end: this.buf.length };
  }
  read(offset: number, length: number): Buffer {
    return this.buf.subarray(offset, offset + length);
  }
  close(): void {}
}

export const DEFAULT_WINDOW_BYTES = 4 * 1024 * 1024;

export class FileSource implements ByteSource {
  readonly size: number;
  readonly stable = false;
  private fd: number | null;
  private win: Buffer;
  /** Absolute file offset of win[0], and how many bytes of win are valid. */
  private winBase = 0;
  private winFilled = 0;

  private readonly mtimeMs: number;

  constructor(
    private readonly file: string,
    private readonly windowBytes = DEFAULT_WINDOW_BYTES,
  ) {
    this.fd = openSync(file, 'r');
    try {
      const info = fstatSync(this.fd);
      this.size = info.size;
      this.mtimeMs = info.mtimeMs;
    } catch (err) {
      this.close();
      throw err;
    }
    this.win = Buffer.allocUnsafe(Math.min(windowBytes, Math.max(this.size, 1)));
  }

  window(offset: number, need: number): { buf: Buffer; start: number; end: number } {
    if (this.fd === null) throw new Error('pickle source is closed');
    const want = Math.min(need, this.size - offset);
    // Already in the window?
    if (offset >= this.winBase && offset + want <= this.winBase + this.winFilled) {
      return { buf: this.win, start: offset - this.winBase, end: this.winFilled };
    }
    // Keep the unread tail, then top up. The caller has checked `need` against the file size, so
    // growing the window to `need` is bounded by the input.
    const keepFrom = offset >= this.winBase && offset <= this.winBase + this.winFilled ? offset - this.winBase : this.winFilled;
    const kept = this.winFilled - keepFrom;
    const capacity = Math.max(this.windowBytes, want);
    if (capacity > this.win.length) {
      const grown = Buffer.allocUnsafe(capacity);
      this.win.copy(grown, 0, keepFrom, this.winFilled);
      this.win = grown;
    } else if (kept > 0 && keepFrom > 0) {
      this.win.copyWithin(0, keepFrom, this.winFilled);
    }
    this.winBase = offset;
    this.winFilled = Math.max(kept, 0);
    while (this.winFilled < this.win.length && this.winBase + this.winFilled < this.size) {
      const n = readSync(this.fd, this.win, this.winFilled, this.win.length - this.winFilled, this.winBase + this.winFilled);
      if (n <= 0) break;
      this.winFilled += n;
    }
    return { buf: this.win, start: 0, end: this.winFilled };
  }

  /**
   * Bytes for a PyText, read from the file when asked (also after the parse closed it). Refuses if the
   * file was replaced or rewritten since, rather than return some other text.
   */
  read(offset: number, length: number): Buffer {
    const fd = this.fd ?? openSync(this.file, 'r');
    try {
      if (this.fd === null) {
        const info = fstatSync(fd);
        if (info.size !== this.size || info.mtimeMs !== this.mtimeMs) {
          throw new TriageError('E_BAD_INPUT', `${this.file} changed after it was read; read it again`);
        }
      }
      const out = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const n = readSync(fd, out, filled, length - filled, offset + filled);
        if (n <= 0) throw new TriageError('E_BAD_INPUT', `${this.file} is shorter than when it was read`);
        filled += n;
      }
      return out;
    } finally {
      if (this.fd === null) closeSync(fd);
    }
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}
