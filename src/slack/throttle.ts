/**
 * Coalescing per-key throttle for chat.update: at most one send per key per interval, and only
 * the newest payload is ever sent (intermediate states are dropped, not queued). A send that
 * is slow (the WebClient waiting out a 429's Retry-After) holds the key, so the next update
 * starts no sooner than Slack allows.
 */
export interface ThrottleOptions<T> {
  intervalMs: number;
  send: (key: string, payload: T) => Promise<void>;
  now?: () => number;
}

interface KeyState<T> {
  latest?: T;
  hasLatest: boolean;
  inFlight: boolean;
  timer?: NodeJS.Timeout;
  lastSentAt: number;
  idle: Array<() => void>;
}

export class UpdateThrottle<T> {
  private readonly keys = new Map<string, KeyState<T>>();
  private readonly now: () => number;

  constructor(private readonly options: ThrottleOptions<T>) {
    this.now = options.now ?? (() => Date.now());
  }

  push(key: string, payload: T): void {
    const state = this.keys.get(key) ?? { hasLatest: false, inFlight: false, lastSentAt: -Infinity, idle: [] };
    this.keys.set(key, state);
    state.latest = payload;
    state.hasLatest = true;
    this.schedule(key, state);
  }

  /** Resolves once the newest payload for `key` has been sent (or there is nothing pending). */
  flush(key: string): Promise<void> {
    const state = this.keys.get(key);
    if (!state || (!state.inFlight && !state.timer && !state.hasLatest)) return Promise.resolve();
    return new Promise((resolve) => state.idle.push(resolve));
  }

  /** Pending payloads are sent right away (shutdown); resolves when all keys are idle. */
  async drain(): Promise<void> {
    const pending = [...this.keys.entries()].map(([key, state]) => {
      if (state.timer) {
        clearTimeout(state.timer);
        state.timer = undefined;
        void this.run(key, state);
      }
      return this.flush(key);
    });
    await Promise.all(pending);
  }

  private schedule(key: string, state: KeyState<T>): void {
    if (state.inFlight || state.timer) return;
    const wait = Math.max(0, state.lastSentAt + this.options.intervalMs - this.now());
    state.timer = setTimeout(() => {
      state.timer = undefined;
      void this.run(key, state);
    }, wait);
  }

  private async run(key: string, state: KeyState<T>): Promise<void> {
    if (!state.hasLatest) return this.settle(key, state);
    const payload = state.latest as T;
    state.latest = undefined;
    state.hasLatest = false;
    state.inFlight = true;
    try {
      await this.options.send(key, payload);
    } catch {
      // send reports its own failures; a later push simply tries again with newer content.
    } finally {
      state.inFlight = false;
      state.lastSentAt = this.now();
    }
    if (state.hasLatest) this.schedule(key, state);
    else this.settle(key, state);
  }

  private settle(key: string, state: KeyState<T>): void {
    if (state.inFlight || state.timer || state.hasLatest) return;
    const waiters = state.idle.splice(0);
    for (const resolve of waiters) resolve();
    // Forget idle keys once the interval has passed, so the map does not grow with every incident.
    setTimeout(() => {
      if (!state.inFlight && !state.timer && !state.hasLatest && !state.idle.length) this.keys.delete(key);
    }, this.options.intervalMs).unref();
  }
}
