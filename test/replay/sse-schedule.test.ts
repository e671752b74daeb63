import { describe, expect, it } from 'vitest';
import { planOffsets, Scheduler, selectRequests, type Clock, type StartTiming } from '../../src/replay/schedule.js';
import { SseParser, type SseEvent } from '../../src/replay/sse.js';
import { markServerDied, type Outcome } from '../../src/replay/outcome.js';
import { previewText } from '../../src/replay/reproduce.js';
import { req } from './fake-sglang.js';

const enc = new TextEncoder();

function feedAll(text: string, splitEvery: number): SseEvent[] {
  const bytes = enc.encode(text);
  const p = new SseParser();
  const out: SseEvent[] = [];
  for (let i = 0; i < bytes.length; i += splitEvery) out.push(...p.push(bytes.subarray(i, i + splitEvery)));
  out.push(...p.end());
  return out;
}

describe('SseParser', () => {
  const body =
    'data: {"text":"Paris","meta_info":{"completion_tokens":1}}\n\n' +
    ': keep-alive\n\n' +
    'data: {"text":"Paris. Ça va ✓","meta_info":{"completion_tokens":2}}\r\n\r\n' +
    'data: {"error":{"message":"bad"}}\r\r' +
    'data: [DONE]\n\n';

  it.each([1, 2, 3, 7, 1000])('gives the same events whatever the chunking (every %i bytes)', (n) => {
    const events = feedAll(body, n);
    expect(events.map((e) => e.type)).toEqual(['data', 'data', 'error', 'done']);
    expect(events[1]).toMatchObject({ type: 'data', json: { text: 'Paris. Ça va ✓' } });
    expect(events[2]).toMatchObject({ type: 'error', message: 'bad' });
  });

  it('joins multi-line data, flushes an event without a trailing blank line, flags non-JSON', () => {
    const events = feedAll('event: x\ndata: {"a":\ndata: 1}\n\ndata: not json\n\ndata: {"b":2}', 5);
    expect(events).toEqual([
      { type: 'data', json: { a: 1 } },
      { type: 'malformed', raw: 'not json' },
      { type: 'data', json: { b: 2 } },
    ]);
  });

  it('refuses an event larger than its cap', () => {
    const p = new SseParser({ maxEventChars: 64 });
    expect(() => p.push(enc.encode(`data: ${'x'.repeat(100)}`))).toThrow(/exceeds/);
  });
});

describe('plan', () => {
  it('request i starts at (createdAt_i - createdAt_0) / speed, after sorting and selection', () => {
    const reqs = selectRequests([req(10.5, { index: 0 }), req(10, { index: 1 }), req(12, { index: 2 })]);
    expect(reqs.map((r) => r.index)).toEqual([1, 0, 2]);
    expect(planOffsets(reqs, 1)).toEqual([0, 500, 2000]);
    expect(planOffsets(reqs, 4)).toEqual([0, 125, 500]);
    expect(planOffsets(selectRequests(reqs, { reqStart: 1 }), 1)).toEqual([0, 1500]);
    expect(() => planOffsets(reqs, 0)).toThrow();
  });
});

/** A manual clock: time moves only when the test says so. */
function manualClock() {
  let now = 0;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock: Clock & { advance(ms: number): Promise<void>; pending(): number } = {
    now: () => now,
    wallNow: () => 1_700_000_000_000 + now,
    setTimer(fn, ms) {
      const id = seq++;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return () => timers.delete(id);
    },
    setImmediate(fn) {
      return clock.setTimer(fn, 0);
    },
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        await Promise.resolve();
        await Promise.resolve();
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = Math.max(now, due[1].at);
        due[1].fn();
      }
      now = end;
      await Promise.resolve();
    },
    pending: () => timers.size,
  };
  return clock;
}

describe('Scheduler', () => {
  it('one timer at a time; cap delay is recorded apart from start error', async () => {
    const clock = manualClock();
    const starts: Array<StartTiming & { i: number }> = [];
    const finishers: Array<() => void> = [];
    const s = new Scheduler({
      plan: [0, 10, 20, 30],
      parallel: 2,
      clock,
      spinMs: 0,
      launch: (i, t) => {
        starts.push({ i, ...t });
        return new Promise<void>((resolve) => finishers.push(resolve));
      },
    });
    const done = s.run(0);
    await clock.advance(0);
    expect(starts.map((x) => x.i)).toEqual([0]);
    await clock.advance(10);
    expect(starts.map((x) => x.i)).toEqual([0, 1]);
    expect(clock.pending()).toBe(0); // cap full: no timer armed, a completion will wake it
    await clock.advance(25); // t=35: requests 2 and 3 are due but held back
    expect(starts).toHaveLength(2);
    finishers[0]!(); // t=35: a slot frees
    await clock.advance(0);
    expect(starts[2]).toEqual({ i: 2, plannedMs: 20, readyMs: 35, startedMs: 35 });
    await clock.advance(5);
    finishers[1]!(); // t=40
    await clock.advance(0);
    expect(starts[3]).toEqual({ i: 3, plannedMs: 30, readyMs: 40, startedMs: 40 });
    finishers[2]!();
    finishers[3]!();
    await done;
    expect(clock.pending()).toBe(0);
  });

  it('stop() sends nothing more and resolves once in-flight requests settle', async () => {
    const clock = manualClock();
    const finishers: Array<() => void> = [];
    const s = new Scheduler({ plan: [0, 100], parallel: 4, clock, spinMs: 0, launch: () => new Promise<void>((r) => finishers.push(r)) });
    let resolved = false;
    const done = s.run(0).then(() => (resolved = true));
    await clock.advance(0);
    s.stop();
    await clock.advance(200);
    expect(s.sent).toBe(1);
    expect(resolved).toBe(false);
    finishers[0]!();
    await done;
    expect(resolved).toBe(true);
  });
});

describe('markServerDied', () => {
  const reset: Outcome = { kind: 'reset', phase: 'response', code: 'ECONNRESET', message: 'x' };
  const refused: Outcome = { kind: 'refused', code: 'ECONNREFUSED', message: 'x' };
  const ok: Outcome = { kind: 'ok', finishReason: 'stop' };

  it('refused after an answer establishes death; resets after the last answer join it', () => {
    const res = [
      { outcome: reset, endedAtMs: 5 }, // before the last answer: a lone reset
      { outcome: ok, endedAtMs: 10 },
      { outcome: reset, endedAtMs: 20 },
      { outcome: refused, endedAtMs: 21 },
    ];
    const d = markServerDied(res, [8, 10]);
    expect(d.diedAtMs).toBe(21);
    expect(d.outcomes.map((o) => o.kind)).toEqual(['reset', 'ok', 'server-died', 'server-died']);
  });

  it('resets alone, or refusals before any answer, are not a death', () => {
    expect(markServerDied([{ outcome: reset, endedAtMs: 20 }], [10]).diedAtMs).toBeNull();
    expect(markServerDied([{ outcome: refused, endedAtMs: 1 }], []).diedAtMs).toBeNull();
  });
});

describe('previewText', () => {
  it('names repeated prompts by their unit', () => {
    expect(previewText('hello '.repeat(768))).toBe('"hello " * 768');
    expect(previewText('a'.repeat(100))).toBe('"a" * 100');
    expect(previewText('short prompt')).toBe('short prompt');
    expect(previewText('x'.repeat(50) + 'y'.repeat(50))).toMatch(/…$/);
  });
});
