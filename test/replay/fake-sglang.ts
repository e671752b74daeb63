/**
 * A real HTTP server on 127.0.0.1 that answers POST /generate the way SGLang does: JSON, or SSE
 * with cumulative text chunks, meta_info and `data: [DONE]`. Knobs make it slow, hang on one
 * request shape, fail mid-stream, require a bearer token, or die after N answers.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Received {
  body: Record<string, unknown>;
  /** performance.now() when the request body was complete. */
  at: number;
  headers: http.IncomingHttpHeaders;
}

export interface FakeOptions {
  token?: string;
  /** Delay before the first byte of the answer (ms), fixed or per request. */
  delayMs?: number | ((body: Record<string, unknown>) => number);
  /** Gap between stream chunks (ms). */
  tokenGapMs?: number;
  /** Tokens generated when sampling_params.max_new_tokens is absent. */
  tokens?: number;
  /** Never answer these requests (the socket stays open). */
  hangWhen?: (body: Record<string, unknown>, promptTokens: number) => boolean;
  /** After this many answers (completed responses), close the listener and destroy every socket. */
  dieAfter?: number;
  /** Send `data: {"error": …}` then [DONE] in the stream for these requests. */
  streamErrorWhen?: (body: Record<string, unknown>) => boolean;
}

export interface FakeSglang {
  url: string;
  received: Received[];
  maxConcurrency: number;
  answered: number;
  dead: boolean;
  close(): Promise<void>;
}

/** "hello " * 768 → 769 (one BOS token plus one per word), like the triage method's example. */
export function promptTokensOf(body: Record<string, unknown>): number {
  if (typeof body.text === 'string') return body.text.split(' ').filter(Boolean).length + 1;
  if (Array.isArray(body.input_ids)) return body.input_ids.length;
  return 1;
}

export async function startFakeSglang(options: FakeOptions = {}): Promise<FakeSglang> {
  const sockets = new Set<Socket>();
  let inFlight = 0;
  const state: FakeSglang = {
    url: '',
    received: [],
    maxConcurrency: 0,
    answered: 0,
    dead: false,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const die = () => {
    if (state.dead) return;
    state.dead = true;
    server.close();
    for (const s of sockets) s.destroy();
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (state.dead) return void req.socket.destroy();
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"object":"error","message":"bad json","code":400}');
        return;
      }
      state.received.push({ body, at: performance.now(), headers: req.headers });
      if (req.url !== '/generate' || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"Unauthorized"}');
        return;
      }
      inFlight++;
      state.maxConcurrency = Math.max(state.maxConcurrency, inFlight);
      res.on('close', () => inFlight--);
      const promptTokens = promptTokensOf(body);
      if (options.hangWhen?.(body, promptTokens)) return; // never answer
      const delay = typeof options.delayMs === 'function' ? options.delayMs(body) : (options.delayMs ?? 0);
      setTimeout(() => answer(body, promptTokens, res), delay);
    });
  });

  const answer = (body: Record<string, unknown>, promptTokens: number, res: http.ServerResponse) => {
    if (state.dead || res.destroyed) return;
    const sp = (body.sampling_params ?? {}) as Record<string, unknown>;
    const n = typeof sp.max_new_tokens === 'number' ? sp.max_new_tokens : (options.tokens ?? 3);
    const rid = typeof body.rid === 'string' ? body.rid : 'fake-rid';
    const started = performance.now();
    const meta = (k: number, final: boolean) => ({
      id: rid,
      finish_reason: final ? { type: 'length', length: n } : null,
      prompt_tokens: promptTokens,
      completion_tokens: k,
      cached_tokens: 0,
      ...(final ? { e2e_latency: (performance.now() - started) / 1000 } : {}),
    });
    const text = (k: number) => Array.from({ length: k }, (_, i) => `t${i}`).join(' ');
    const ids = (k: number) => Array.from({ length: k }, (_, i) => 100 + i);
    const done = () => {
      state.answered++;
      if (options.dieAfter !== undefined && state.answered >= options.dieAfter) setImmediate(die);
    };
    if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ text: text(n), output_ids: ids(n), meta_info: meta(n, true) }), done);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let k = 0;
    const step = () => {
      if (state.dead || res.destroyed) return;
      if (options.streamErrorWhen?.(body) && k === 1) {
        res.write(`data: ${JSON.stringify({ error: { message: 'boom in the middle' } })}\n\n`);
        res.end('data: [DONE]\n\n', done);
        return;
      }
      k++;
      res.write(`data: ${JSON.stringify({ text: text(k), output_ids: ids(k), meta_info: meta(k, k === n) })}\n\n`);
      if (k < n) setTimeout(step, options.tokenGapMs ?? 5);
      else res.end('data: [DONE]\n\n', done);
    };
    step();
  };

  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

let nextIndex = 0;

/** A ReplayRequest as the dump loader would produce it. */
export function req(createdAt: number, over: Partial<import('../../src/replay/types.js').ReplayRequest> = {}): import('../../src/replay/types.js').ReplayRequest {
  const index = over.index ?? nextIndex++;
  return {
    index,
    rid: `rid-${index}`,
    createdAt,
    finishedAt: createdAt + 0.5,
    body: { text: 'hello world', sampling_params: { temperature: 0 }, rid: `rid-${index}` },
    stream: false,
    recordedPromptTokens: 3,
    recordedCompletionTokens: 3,
    unfinished: false,
    ...over,
  };
}

/** Fake servers started through `useFakeSglang()` are closed after each test of the calling file. */
export function useFakeSglang(afterEachHook: (fn: () => Promise<void>) => void): (...args: Parameters<typeof startFakeSglang>) => Promise<FakeSglang> {
  const servers: FakeSglang[] = [];
  afterEachHook(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return async (...args) => {
    const s = await startFakeSglang(...args);
    servers.push(s);
    return s;
  };
}
