import { afterEach, describe, expect, it } from 'vitest';
import { prepareBody, runReplay, type ReplayOptions } from '../../src/replay/engine.js';
import { buildDocument } from '../../src/replay/report.js';
import { decide } from '../../src/replay/reproduce.js';
import { req, useFakeSglang } from './fake-sglang.js';

const fake = useFakeSglang(afterEach);

const signal = () => new AbortController().signal;
const replay = (requests: Parameters<typeof runReplay>[0], options: ReplayOptions, sig = signal()) => runReplay(requests, options, { signal: sig });

describe('timing', () => {
  it('keeps recorded relative start times, scaled by --speed', async () => {
    const s = await fake();
    const reqs = [req(1000), req(1000.2), req(1000.4), req(1000.6)];
    const run = await replay(reqs, { target: s.url, speed: 2, parallel: 8 });
    expect(run.results.map((r) => r.plannedStartMs)).toEqual([0, 100, 200, 300]);
    for (const r of run.results) {
      expect(r.outcome.kind).toBe('ok');
      expect(r.actualStartMs! - r.plannedStartMs).toBeGreaterThanOrEqual(0);
      // Ordering, not speed: each start lands before the next planned one could (the bench measures error).
      expect(r.actualStartMs! - r.plannedStartMs).toBeLessThan(1000);
      expect(r.capDelayMs).toBe(0);
    }
    // The server saw them spread out like the plan (generous tolerance: not a speed test).
    const at = s.received.map((x) => x.at);
    expect(at[3]! - at[0]!).toBeGreaterThan(300 * 0.7);
  });

  it('orders by createdAt and applies --req-start / --req-number', async () => {
    const s = await fake();
    const reqs = [req(5, { index: 0 }), req(3, { index: 1 }), req(4, { index: 2 }), req(6, { index: 3 })];
    const run = await replay(reqs, { target: s.url, speed: 1000, reqStart: 1, reqNumber: 2 });
    expect(run.results.map((r) => r.idx)).toEqual([2, 0]);
    expect(run.results.map((r) => r.plannedStartMs)).toEqual([0, 1]);
    expect(s.received.map((x) => x.body.rid)).toEqual(['rid-2', 'rid-0']);
  });

  it('honours the --parallel cap and records cap delay apart from start error', async () => {
    const s = await fake({ delayMs: 40 });
    const reqs = Array.from({ length: 12 }, () => req(100));
    const run = await replay(reqs, { target: s.url, parallel: 3 });
    expect(s.maxConcurrency).toBeLessThanOrEqual(3);
    expect(run.results.every((r) => r.outcome.kind === 'ok')).toBe(true);
    const delayed = run.results.filter((r) => r.capDelayMs! > 0);
    expect(delayed.length).toBeGreaterThanOrEqual(6);
    // Held back ~40 ms per wave; the scheduler's own error stays small.
    expect(Math.max(...delayed.map((r) => r.capDelayMs!))).toBeGreaterThan(60);
    // Cap delay is booked separately from scheduler error (generous bound: the bench measures error).
    for (const r of run.results) expect(r.startErrorMs!).toBeLessThan(Math.max(...delayed.map((d) => d.capDelayMs!)) + 500);
    const doc = buildDocument(run);
    expect(doc.totals.capDelayed.count).toBe(delayed.length);
  });
});

describe('request bodies', () => {
  it('--ignore-eos sets ignore_eos and max_new_tokens (creating sampling_params)', async () => {
    const s = await fake();
    const withSp = req(1, { recordedCompletionTokens: 7 });
    const withoutSp = req(1.01, { body: { text: 'x' }, recordedCompletionTokens: 5 });
    const unknownLen = req(1.02, { recordedCompletionTokens: undefined });
    await replay([withSp, withoutSp, unknownLen], { target: s.url, ignoreEos: true });
    const sps = s.received.map((x) => x.body.sampling_params as Record<string, unknown>);
    expect(sps[0]).toEqual({ temperature: 0, ignore_eos: true, max_new_tokens: 7 });
    expect(sps[1]).toEqual({ ignore_eos: true, max_new_tokens: 5 });
    expect(sps[2]).toEqual({ temperature: 0, ignore_eos: true });
  });

  it('leaves bodies alone without --ignore-eos and never mutates the input', () => {
    const r = req(1);
    const before = structuredClone(r.body);
    expect(prepareBody(r, false)).toEqual({ ...before, stream: false });
    prepareBody(r, true);
    expect(r.body).toEqual(before);
  });

  it('sends the bearer token when given; 401 without it is inconclusive', async () => {
    const s = await fake({ token: 'sekret' });
    const without = await replay([req(1), req(1.01)], { target: s.url });
    expect(without.results.map((r) => r.outcome.kind)).toEqual(['http-error', 'http-error']);
    expect(without.results[0]!.status).toBe(401);
    const v = decide(without);
    expect(v.reproduced).toBe('inconclusive');
    expect(v.why).toMatch(/401/);
    const withTok = await replay([req(1)], { target: s.url, token: 'sekret' });
    expect(withTok.results[0]!.outcome.kind).toBe('ok');
    expect(s.received.at(-1)!.headers.authorization).toBe('Bearer sekret');
    expect(JSON.stringify(buildDocument(withTok))).not.toContain('sekret');
  });
});

describe('streams', () => {
  it('measures TTFT, inter-token gaps and tokens from SSE', async () => {
    const s = await fake({ tokens: 6, tokenGapMs: 15, delayMs: 30 });
    const run = await replay([req(1, { stream: true, recordedCompletionTokens: 6 })], { target: s.url });
    const r = run.results[0]!;
    expect(r.outcome).toEqual({ kind: 'ok', finishReason: 'length' });
    expect(r.ttftMs!).toBeGreaterThanOrEqual(25);
    expect(r.gaps!.count).toBe(5);
    expect(r.gaps!.maxMs).toBeGreaterThanOrEqual(r.gaps!.p50Ms);
    expect(r.completionTokens).toBe(6);
    expect(r.promptTokens).toBe(3);
    expect(r.e2eMs!).toBeGreaterThanOrEqual(r.ttftMs!);
  });

  it('an error event in a 200 stream is an http-error and counts as reproduced', async () => {
    const s = await fake({ tokens: 4, streamErrorWhen: (b) => b.rid === 'bad' });
    const run = await replay([req(1, { stream: true }), req(1.01, { stream: true, rid: 'bad', body: { text: 'x', rid: 'bad' } })], { target: s.url });
    expect(run.results[0]!.outcome.kind).toBe('ok');
    expect(run.results[1]!.outcome).toMatchObject({ kind: 'http-error', status: 200, source: 'stream-error', message: 'boom in the middle' });
    expect(decide(run).reproduced).toBe(true);
  });

  it('non-stream answers carry meta_info counts and total latency', async () => {
    const s = await fake({ delayMs: 20, tokens: 4 });
    const run = await replay([req(1)], { target: s.url });
    const r = run.results[0]!;
    expect(r.outcome.kind).toBe('ok');
    expect(r.ttftMs).toBeNull();
    expect(r.e2eMs!).toBeGreaterThanOrEqual(15);
    expect(r.completionTokens).toBe(4);
  });
});
