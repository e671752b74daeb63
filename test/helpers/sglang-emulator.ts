/**
 * A real local HTTP server that answers like SGLang, for tests, benches and the README demo.
 * Scenarios come from the reference (healthy; TTFT spike with low queue; queue pressure; hung;
 * reset; garbage JSON; 2 GB body; api-key protected; old server without /v1/loads).
 *
 *   node --import tsx test/helpers/sglang-emulator.ts --scenario ttft-spike --port 30000
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { sglangMetrics, type MetricsShape } from './sglang-metrics.js';

export type Scenario = 'healthy' | 'ttft-spike' | 'queue-pressure' | 'hung' | 'reset' | 'garbage' | 'huge-body' | 'api-key' | 'old-server' | 'generate-stalled';

export interface EmulatorOptions {
  scenario: Scenario;
  port?: number;
  /** Extra latency per path (ms), to model realistic endpoint timings. */
  latencyMs?: Partial<Record<string, number>>;
  apiKey?: string;
  adminKey?: string;
  tpSize?: number;
  /** /generate never answers prompts of at least this many tokens (words + 1): a request-shaped hang. */
  hangPromptTokens?: number;
}

export interface Emulator {
  url: string;
  port: number;
  hits: string[];
  /** Most requests in flight at once (requests received, not yet answered or closed). */
  maxInFlight(): number;
  close(): Promise<void>;
}

const SECRET_API_KEY = 'sk-live-SECRET-api-key-0123456789';
const SECRET_ADMIN_KEY = 'sk-admin-SECRET-0123456789';

const TTFT_CASE: MetricsShape = {
  requests: 2, promptTokens: 1540, generationTokens: 128, cachedTokens: 1494,
  ttftSum: 6.42, e2eSum: 8.3, queueSum: 0.06,
  stages: { prefill_forward: [[5.8, 2], [5.0, 2]], request_process: [[0.18, 2], [0.16, 2]] },
  running: 1, waiting: 0, tokenUsage: 0.41,
};

const HEALTHY: MetricsShape = {
  requests: 1200, promptTokens: 480000, generationTokens: 96000, cachedTokens: 300000,
  ttftSum: 180, e2eSum: 1500, queueSum: 12,
  stages: { prefill_forward: [[60, 1200]], request_process: [[24, 1200]] },
  running: 12, waiting: 0, tokenUsage: 0.35,
};

const QUEUE: MetricsShape = {
  requests: 5000, promptTokens: 2_000_000, generationTokens: 400_000, cachedTokens: 900_000,
  ttftSum: 21000, e2eSum: 60000, queueSum: 18500,
  stages: { prefill_forward: [[1500, 5000]], request_process: [[400, 5000]] },
  running: 256, waiting: 143, tokenUsage: 0.97,
};

function loads(s: MetricsShape, envelope: 'early' | 'late', cacheHitRate: number) {
  const row = {
    dp_rank: 0, num_running_reqs: s.running, num_waiting_reqs: s.waiting, num_used_tokens: Math.round(s.tokenUsage * 412345),
    max_total_num_tokens: 412345, token_usage: s.tokenUsage, gen_throughput: s === TTFT_CASE ? 29.8 : 812.4,
    cache_hit_rate: cacheHitRate, utilization: 0.0, max_running_requests: 2048,
    queues: { waiting: s.waiting, grammar: 0, paused: 0, retracted: 0 },
  };
  const base = { timestamp: '2026-11-28T01:00:00.000000+00:00', version: '0.5.15', loads: [row] };
  return envelope === 'early'
    ? { ...base, dp_rank_count: 1, aggregate: { total_running_reqs: s.running, total_waiting_reqs: s.waiting } }
    : { ...base, accelerator: 'NVIDIA H200', num_accelerators: 2 };
}

function serverInfo(opts: EmulatorOptions) {
  return {
    model_path: 'Qwen/Qwen3-8B', served_model_name: 'Qwen/Qwen3-8B', tp_size: opts.tpSize ?? 2, dp_size: 1, pp_size: 1, ep_size: 1,
    disaggregation_mode: 'null', enable_metrics: true, watchdog_timeout: 300, crash_dump_folder: '/data/crash',
    api_key: SECRET_API_KEY, admin_api_key: SECRET_ADMIN_KEY, ssl_keyfile_password: 'hunter2',
    hicache_storage_backend_extra_config: JSON.stringify({ endpoint: 's3://bucket', access_key: 'AKIASECRET', secret_key: 'SECRETVALUE' }),
    max_total_num_tokens: 412345, max_req_input_len: 40955,
    internal_states: [{ last_gen_throughput: 812.4, memory_usage: { weight: 8.2, kvcache: 54.1, token_capacity: 412345, graph: 1.3 }, effective_max_running_requests_per_dp: 2048 }],
    version: '0.5.15',
  };
}

const MODEL_INFO = { model_path: 'Qwen/Qwen3-8B', tokenizer_path: 'Qwen/Qwen3-8B', is_generation: true, preferred_sampling_params: null, weight_version: 'default', model_type: 'qwen3', architectures: ['Qwen3ForCausalLM'] };

export async function startEmulator(opts: EmulatorOptions): Promise<Emulator> {
  const hits: string[] = [];
  const sockets = new Set<Socket>();
  const shape = opts.scenario === 'ttft-spike' ? TTFT_CASE : opts.scenario === 'queue-pressure' ? QUEUE : HEALTHY;
  const cacheHit = opts.scenario === 'ttft-spike' ? 0.97 : 0.6;

  let inFlight = 0;
  let maxInFlight = 0;
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    hits.push(url);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.once('close', () => inFlight--);
    const pathOnly = url.split('?')[0]!;
    const delay = opts.latencyMs?.[pathOnly] ?? 0;
    if (delay) await new Promise((r) => setTimeout(r, delay));
    if (opts.scenario === 'hung') return; // accept, never answer
    if (opts.scenario === 'generate-stalled' && pathOnly.startsWith('/health')) return;
    if (opts.scenario === 'reset') {
      req.socket.destroy();
      return;
    }
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (opts.scenario === 'api-key' && !pathOnly.startsWith('/health') && pathOnly !== '/metrics' && pathOnly !== '/hicache/storage-backend') {
      const key = opts.apiKey ?? SECRET_API_KEY;
      if (req.headers.authorization !== `Bearer ${key}`) return json(401, { error: 'Unauthorized' });
    }
    if (opts.scenario === 'huge-body' && pathOnly === '/metrics') return streamHuge(res);
    if (opts.scenario === 'garbage' && pathOnly !== '/health' && pathOnly !== '/health_generate' && pathOnly !== '/metrics') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"model_path": "Qwen/Qwen3-8B", "tp_size": 2,,, <html>oops');
    }
    const old = opts.scenario === 'old-server';
    switch (pathOnly) {
      case '/health':
      case '/health_generate':
        res.writeHead(200);
        return res.end();
      case '/metrics':
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        return res.end(sglangMetrics(shape));
      case '/model_info':
        return old ? json(404, { detail: 'Not Found' }) : json(200, MODEL_INFO);
      case '/get_model_info':
        return json(200, { model_path: MODEL_INFO.model_path, tokenizer_path: MODEL_INFO.tokenizer_path, is_generation: true });
      case '/server_info':
        return old ? json(404, { detail: 'Not Found' }) : json(200, serverInfo(opts));
      case '/get_server_info':
        return json(200, serverInfo(opts));
      case '/v1/loads':
        return old ? json(404, { detail: 'Not Found' }) : json(200, loads(shape, opts.scenario === 'queue-pressure' ? 'early' : 'late', cacheHit));
      case '/generate':
        return generate(req, res, opts);
      case '/get_load':
        return json(200, [{ dp_rank: 0, num_reqs: shape.running, num_waiting_reqs: shape.waiting, num_tokens: 1234, ts_tic: 99.1 }]);
      case '/hicache/storage-backend':
        if (opts.scenario === 'api-key') {
          // ADMIN_OPTIONAL with both keys configured: only the admin key is accepted.
          return req.headers.authorization === `Bearer ${opts.adminKey ?? SECRET_ADMIN_KEY}`
            ? json(200, { hicache_storage_backend: 'mooncake', hicache_storage_backend_extra_config: JSON.stringify({ master: 'etcd://10.0.0.9', secret_key: 'HICACHE-SECRET' }), hicache_storage_prefetch_policy: 'best_effort', hicache_write_policy: 'write_through' })
            : json(401, { error: 'Unauthorized' });
        }
        return old
          ? json(404, { detail: 'Not Found' })
          : json(400, { error: 'This endpoint requires admin API key, but this server was started without one (admin-api-key). Restart with --admin-api-key to enable.' });
      default:
        return json(404, { detail: 'Not Found' });
    }
  };

  const server: Server = createServer((req, res) => void handler(req, res));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    maxInFlight: () => maxInFlight,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A minimal /generate: JSON or SSE (cumulative text), hanging on long prompts when asked to. */
async function generate(req: IncomingMessage, res: ServerResponse, opts: EmulatorOptions): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  let body: { text?: string; input_ids?: number[]; stream?: boolean; rid?: string; sampling_params?: { max_new_tokens?: number } };
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    res.writeHead(400, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ object: 'error', message: 'bad JSON', type: 'Bad Request', code: 400 }));
  }
  const promptTokens = typeof body.text === 'string' ? body.text.split(' ').filter(Boolean).length + 1 : (body.input_ids?.length ?? 1);
  if (opts.hangPromptTokens !== undefined && promptTokens >= opts.hangPromptTokens) return; // the scheduler never answers
  const n = Math.min(body.sampling_params?.max_new_tokens ?? 8, 32);
  const meta = (k: number, done: boolean) => ({ id: body.rid ?? 'rid', finish_reason: done ? { type: 'length', length: n } : null, prompt_tokens: promptTokens, completion_tokens: k, cached_tokens: 0, ...(done ? { e2e_latency: 0.01 * n } : {}) });
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ text: 'tok '.repeat(n), output_ids: Array.from({ length: n }, (_, i) => i), meta_info: meta(n, true) }));
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (let k = 1; k <= n; k++) {
    res.write(`data: ${JSON.stringify({ text: 'tok '.repeat(k), output_ids: Array.from({ length: k }, (_, i) => i), meta_info: meta(k, k === n) })}\n\n`);
    await new Promise((r) => setTimeout(r, 5));
  }
  res.end('data: [DONE]\n\n');
}

/** Claims 2 GB and streams it lazily, stopping when the client goes away. */
function streamHuge(res: ServerResponse): void {
  const total = 2 * 1024 * 1024 * 1024;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(total) });
  const chunk = Buffer.alloc(1024 * 1024, 'a');
  let sent = 0;
  const pump = () => {
    while (sent < total && !res.destroyed) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end();
  };
  res.on('close', () => (sent = total));
  pump();
}

export const EMULATOR_SECRETS = { apiKey: SECRET_API_KEY, adminKey: SECRET_ADMIN_KEY };

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const get = (flag: string) => args[args.indexOf(flag) + 1];
  const latency = args.includes('--latency') ? Object.fromEntries(get('--latency')!.split(',').map((kv) => [kv.split('=')[0]!, Number(kv.split('=')[1])])) : undefined;
  const hang = args.includes('--hang-prompt-tokens') ? { hangPromptTokens: Number(get('--hang-prompt-tokens')) } : {};
  const emulator = await startEmulator({ scenario: (get('--scenario') as Scenario) ?? 'healthy', port: Number(get('--port') ?? 30000), ...(latency ? { latencyMs: latency } : {}), ...hang });
  process.stderr.write(`SGLang emulator (${get('--scenario') ?? 'healthy'}) on ${emulator.url}\n`);
}
