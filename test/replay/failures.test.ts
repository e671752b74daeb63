import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runReplay, type ReplayOptions } from '../../src/replay/engine.js';
import { buildDocument } from '../../src/replay/report.js';
import { decide } from '../../src/replay/reproduce.js';
import { req, useFakeSglang } from './fake-sglang.js';

const fake = useFakeSglang(afterEach);

const replay = (requests: Parameters<typeof runReplay>[0], options: ReplayOptions, sig = new AbortController().signal) =>
  runReplay(requests, options, { signal: sig });

/** Sends the SSE headers and one token, then nothing. */
async function startSilentAfterFirstToken() {
  const sockets = new Set<import('node:net').Socket>();
  const srv = http.createServer((rq, rs) => {
    rq.resume();
    rq.on('end', () => {
      rs.writeHead(200, { 'content-type': 'text/event-stream' });
      rs.write('data: {"text":"a","meta_info":{"completion_tokens":1,"finish_reason":null}}\n\n');
    });
  });
  srv.on('connection', (c) => sockets.add(c));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    close: async () => {
      for (const c of sockets) c.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

const HELLO_768 = 'hello '.repeat(768).trimEnd();
const trigger = (createdAt: number) =>
  req(createdAt, { body: { text: `${HELLO_768} `, sampling_params: { max_new_tokens: 8 } }, recordedPromptTokens: 769, unfinished: true, finishedAt: undefined, rid: 'trigger' });

describe('deadlines and hangs', () => {
  it('a request-shaped hang: the 769-token prompt times out, the others are answered → hang', async () => {
    const s = await fake({ hangWhen: (_b, tokens) => tokens === 769 });
    const reqs = [req(10), trigger(10.05), req(10.1), req(10.2)];
    const started = performance.now();
    const run = await replay(reqs, { target: s.url, timeoutMs: 600 });
    expect(performance.now() - started).toBeLessThan(5000);
    const kinds = run.results.map((r) => r.outcome.kind);
    expect(kinds).toEqual(['ok', 'timeout', 'ok', 'ok']);
    expect(run.results[1]!.outcome).toMatchObject({ kind: 'timeout', phase: 'response' });
    expect(run.hungAtMs).toBeNull(); // others answered after the trigger: not a whole-target stop
    const v = decide(run);
    expect(v.reproduced).toBe('hang');
    expect(v.trigger).toMatchObject({ rid: 'trigger', promptTokens: 769, textPreview: '"hello " * 768', unfinishedInDump: true });
  });

  it('at --parallel 1 a request-shaped hang does not stop the replay when the next request is answered', async () => {
    const s = await fake({ hangWhen: (_b, tokens) => tokens === 769 });
    const run = await replay([trigger(1), req(1.01), req(1.02)], { target: s.url, timeoutMs: 300, parallel: 1 });
    expect(run.results.map((r) => r.outcome.kind)).toEqual(['timeout', 'ok', 'ok']);
    expect(run.hungAtMs).toBeNull();
    expect(run.stopped).toBeNull();
    expect(decide(run).reproduced).toBe('hang');
  });

  it('at --parallel 1 a frozen target is declared hung after two silent deadlines', async () => {
    const s = await fake({ hangWhen: () => true });
    const run = await replay([req(1), req(1.01), req(1.02), req(1.03)], { target: s.url, timeoutMs: 250, parallel: 1 });
    expect(run.results.map((r) => r.outcome.kind)).toEqual(['timeout', 'timeout', 'not-sent', 'not-sent']);
    expect(run.stopped?.reason).toBe('target-hung');
  });

  it('a target that stops answering entirely: stops sending, the rest are not-sent', async () => {
    const s = await fake({ hangWhen: () => true });
    const reqs = [req(1), req(1.01), req(30), req(31)];
    const started = performance.now();
    const run = await replay(reqs, { target: s.url, timeoutMs: 300 });
    expect(performance.now() - started).toBeLessThan(5000); // did not wait for the +29 s requests
    expect(run.stopped?.reason).toBe('target-hung');
    expect(run.hungAtMs).not.toBeNull();
    expect(run.results[0]!.outcome.kind).toBe('timeout');
    expect(['timeout', 'aborted']).toContain(run.results[1]!.outcome.kind);
    expect(run.results.slice(2).map((r) => r.outcome)).toEqual([
      { kind: 'not-sent', reason: 'target-hung' },
      { kind: 'not-sent', reason: 'target-hung' },
    ]);
    const doc = buildDocument(run);
    expect(doc.reproduced).toBe('hang');
    expect(doc.targetHungAtMs).not.toBeNull();
  });

  it('a slow stream times out in first-token or body phase, per request', async () => {
    const s = await fake({ tokens: 200, tokenGapMs: 50 });
    const run = await replay([req(1, { stream: true, body: { text: 'x' } })], { target: s.url, timeoutMs: 2000 });
    const o = run.results[0]!.outcome;
    expect(o).toMatchObject({ kind: 'timeout', phase: 'body' });
    expect(run.results[0]!.ttftMs).not.toBeNull();
    // Tokens were still flowing at the deadline: too slow, not a hang (stall threshold is timeout/2 = 1 s).
    expect(o.kind === 'timeout' && o.idleMs).toBeLessThan(1000);
    expect(decide(run).reproduced).toBe('slow');
  });

  it('a stream whose tokens stop mid-decode is a stall (hang)', async () => {
    const silent = await startSilentAfterFirstToken();
    try {
      const run = await replay([req(1, { stream: true, body: { text: 'x' } })], { target: silent.url, timeoutMs: 400 });
      expect(run.results[0]!.outcome).toMatchObject({ kind: 'timeout', phase: 'body' });
      expect(decide(run).reproduced).toBe('hang');
    } finally {
      await silent.close();
    }
  });
});

describe('a server that dies mid-replay', () => {
  it('refused after answering → server-died, reproduced crash, remaining not sent', async () => {
    const s = await fake({ dieAfter: 3, delayMs: (b) => (b.rid === 'slow' ? 500 : 5) });
    const reqs = [req(1), req(1.01), req(1.02, { rid: 'slow', body: { text: 'long one', rid: 'slow' }, unfinished: true }), req(1.1), req(1.2), req(1.3), req(20)];
    const started = performance.now();
    const run = await replay(reqs, { target: s.url, timeoutMs: 5000, parallel: 8 });
    expect(performance.now() - started).toBeLessThan(5000);
    const kinds = run.results.map((r) => r.outcome.kind);
    expect(kinds.slice(0, 2)).toEqual(['ok', 'ok']);
    expect(kinds).toContain('server-died');
    expect(run.diedAtMs).not.toBeNull();
    expect(run.stopped?.reason).toBe('server-died');
    // The slow request was in flight when the server died: its reset is part of the death.
    expect(run.results[2]!.outcome).toMatchObject({ kind: 'server-died', was: 'reset' });
    expect(run.results.at(-1)!.outcome).toEqual({ kind: 'not-sent', reason: 'server-died' });
    const v = decide(run);
    expect(v.reproduced).toBe('crash');
    expect(v.trigger?.rid).toBe('slow');
  });

  it('a target that never answered keeps plain refused and is inconclusive', async () => {
    const srv = http.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const run = await replay([req(1), req(1.01)], { target: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
    expect(run.results.map((r) => r.outcome.kind)).toEqual(['refused', 'refused']);
    expect(run.diedAtMs).toBeNull();
    const v = decide(run);
    expect(v.reproduced).toBe('inconclusive');
    expect(v.why).toMatch(/never answered/);
  });

  it('a single reset while the server stays up is a reset (reproduced true), not a death', async () => {
    const srv = http.createServer((rq, rs) => {
      rq.resume();
      rq.on('end', () => {
        if (rq.headers['x-n'] === undefined && count++ === 1) return void rq.socket.destroy();
        rs.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"a","meta_info":{"completion_tokens":1,"finish_reason":{"type":"stop"}}}');
      });
    });
    let count = 0;
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const run = await replay([req(1), req(1.05), req(1.1)], { target: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, parallel: 1 });
      expect(run.results.map((r) => r.outcome.kind)).toEqual(['ok', 'reset', 'ok']);
      expect(run.diedAtMs).toBeNull();
      expect(decide(run).reproduced).toBe(true);
    } finally {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});

describe('abort', () => {
  it('stops promptly: in-flight aborted, rest not sent, a document is still built', async () => {
    const s = await fake({ delayMs: 10_000 });
    const ac = new AbortController();
    const reqs = [req(1), req(1.01), req(60)];
    setTimeout(() => ac.abort(new Error('received SIGINT')), 200);
    const started = performance.now();
    const run = await replay(reqs, { target: s.url, timeoutMs: 30_000 }, ac.signal);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(run.stopped?.reason).toBe('signal');
    expect(run.results.map((r) => r.outcome.kind)).toEqual(['aborted', 'aborted', 'not-sent']);
    const doc = buildDocument(run);
    expect(doc.reproduced).toBe('inconclusive');
    expect(doc.totals.outcomes.aborted).toBe(2);
  });
});

describe('body cap', () => {
  it('a response over the per-request cap is bad-body too-large', async () => {
    const s = await fake({ tokens: 2000 });
    const run = await runReplay([req(1)], { target: s.url, maxBodyBytes: 1024 }, { signal: new AbortController().signal });
    expect(run.results[0]!.outcome).toMatchObject({ kind: 'bad-body', reason: 'too-large' });
  });
});
