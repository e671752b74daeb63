/**
 * A real local HTTP server that answers like SGLang, for tests, benches and the README demo.
 * Scenarios come from the reference (healthy; TTFT spike with low queue; queue pressure; hung;
 * reset; garbage JSON; 2 GB body; api-key protected; old server without /v1/loads).
 *
 * Started as a process (a registry's `replay.launch`), it is also a clean target that faults for real:
 * it crashes on one request shape after writing a CPython-pickled crash dump, SGLang's log lines and a
 * real CUDA coredump (recorded on H200); hangs on another with per-rank processes titled like SGLang's
 * ranks that write the recorded NCCL divergence; goes slow on a third; and serves /start_profile and
 * /stop_profile by writing a Chrome trace. `--help` lists the options.
 *
 *   node --import tsx test/helpers/sglang-emulator.ts --scenario ttft-spike --port 30000
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { sglangMetrics, type MetricsShape } from './sglang-metrics.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(HERE, '..', 'fixtures');

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
  /** Prompts of at least this many tokens crash the server (dump, log lines, CUDA coredump, SIGABRT). */
  crashPromptTokens?: number;
  /** Prompts of at least this many tokens take `slowMs` before their first token. */
  slowPromptTokens?: number;
  slowMs?: number;
  /** SGLang's --crash-dump-folder. */
  crashDumpFolder?: string;
  /** Rank processes to start (sglang::scheduler_TP<n>). */
  ranks?: number;
  /** The environment SGLang reads (coredump, NCCL, health probe settings). */
  env?: Record<string, string | undefined>;
  /** A crash ends the process (SIGABRT), as a real one does. In-process (tests), it only closes the server. */
  exitOnCrash?: boolean;
  /** Logs go here (the process's stderr when started as a process). */
  log?: (line: string) => void;
  /** Answers differ from the usual ones (a wrong-output target). */
  driftAnswers?: boolean;
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
  const fault = new FaultState(opts);
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
    if (fault.hung && pathOnly.startsWith('/health')) {
      // SGLang's health probe waits SGLANG_HEALTH_CHECK_TIMEOUT (20 s) for a token, then answers 503.
      await new Promise((r) => setTimeout(r, fault.healthProbeMs));
      res.writeHead(503);
      return void res.end();
    }
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
        return generate(req, res, opts, fault);
      case '/start_profile':
        return fault.startProfile(req, res);
      case '/stop_profile':
        return fault.stopProfile(res);
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
  fault.startRanks();
  const emulator: Emulator = {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    maxInFlight: () => maxInFlight,
    close: () =>
      new Promise<void>((resolve) => {
        fault.stopRanks();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  fault.onCrash = () => {
    for (const s of sockets) s.destroy();
    server.close();
  };
  return emulator;
}

/** A minimal /generate: JSON or SSE (cumulative text), hanging on long prompts when asked to. */
async function generate(req: IncomingMessage, res: ServerResponse, opts: EmulatorOptions, fault: FaultState): Promise<void> {
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
  const n = Math.min(body.sampling_params?.max_new_tokens ?? 8, 32);
  fault.received(body, promptTokens);
  if (opts.crashPromptTokens !== undefined && promptTokens >= opts.crashPromptTokens) return fault.crash(promptTokens);
  if (opts.hangPromptTokens !== undefined && promptTokens >= opts.hangPromptTokens) return fault.hang(promptTokens); // the scheduler never answers
  if (opts.slowPromptTokens !== undefined && promptTokens >= opts.slowPromptTokens) await new Promise((r) => setTimeout(r, opts.slowMs ?? 3000));
  fault.step();

  const meta = (k: number, done: boolean) => ({ id: body.rid ?? 'rid', finish_reason: done ? { type: 'length', length: n } : null, prompt_tokens: promptTokens, completion_tokens: k, cached_tokens: 0, ...(done ? { e2e_latency: 0.01 * n } : {}) });
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    fault.finished(body, answerFor(n, opts));
    return void res.end(JSON.stringify({ text: answerFor(n, opts), output_ids: Array.from({ length: n }, (_, i) => i), meta_info: meta(n, true) }));
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (let k = 1; k <= n; k++) {
    res.write(`data: ${JSON.stringify({ text: 'tok '.repeat(k), output_ids: Array.from({ length: k }, (_, i) => i), meta_info: meta(k, k === n) })}\n\n`);
    await new Promise((r) => setTimeout(r, 5));
  }
  res.end('data: [DONE]\n\n');
}

function answerFor(n: number, opts: EmulatorOptions): string {
  return opts.driftAnswers ? 'kot '.repeat(n) : 'tok '.repeat(n);
}

type GenerateBody = { text?: string; input_ids?: number[]; stream?: boolean; rid?: string; sampling_params?: { max_new_tokens?: number; temperature?: number } };

/** Crash, hang, slow and profile behaviour, and the requests seen (what a crash dump holds). */
class FaultState {
  hung = false;
  onCrash: () => void = () => undefined;
  readonly healthProbeMs: number;
  private ranks: ChildProcess[] = [];
  private seen: Array<{ rid: string; text: string; max: number; temperature?: number; created: number; finished: number | null; output: string | null }> = [];
  private profile: { dir: string; id: string; steps: number; limit: number | null } | null = null;

  constructor(private readonly opts: EmulatorOptions) {
    this.healthProbeMs = Number(opts.env?.SGLANG_HEALTH_CHECK_TIMEOUT ?? 20) * 1000;
  }

  /** SGLang's log envelope: `[2026-11-28 01:00:00 TP0] message` (the rank part only in scheduler processes). */
  private log(line: string, tp?: number): void {
    (this.opts.log ?? (() => undefined))(`[${new Date().toISOString().replace('T', ' ').slice(0, 19)}${tp === undefined ? '' : ` TP${tp}`}] ${line}`);
  }

  startRanks(): void {
    for (let i = 0; i < (this.opts.ranks ?? 0); i++) {
      const child = fork(path.join(HERE, 'emulator', 'rank.mjs'), ['--rank', String(i), '--title-room-for-sglang-scheduler-name'], { env: { ...process.env, ...this.opts.env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      this.ranks.push(child);
    }
  }

  stopRanks(): void {
    for (const r of this.ranks) r.kill('SIGKILL');
  }

  received(body: GenerateBody, promptTokens: number): void {
    this.seen.push({ rid: body.rid ?? `rid-${this.seen.length}`, text: body.text ?? '', max: body.sampling_params?.max_new_tokens ?? 8, ...(body.sampling_params?.temperature !== undefined ? { temperature: body.sampling_params.temperature } : {}), created: Date.now() / 1000, finished: null, output: null });
    for (let i = 0; i < Math.max(1, this.ranks.length); i++) this.log(`Prefill batch, #new-seq: 1, #new-token: ${promptTokens}, #cached-token: 0, token usage: 0.01, #running-req: 0, #queue-req: 0`, i);
  }

  finished(body: GenerateBody, output: string): void {
    const r = [...this.seen].reverse().find((x) => x.rid === (body.rid ?? x.rid) && x.finished === null);
    if (r) Object.assign(r, { finished: Date.now() / 1000, output });
  }

  step(): void {
    if (this.profile && this.profile.limit !== null && ++this.profile.steps >= this.profile.limit) this.writeTrace();
  }

  hang(promptTokens: number): void {
    this.hung = true;
    this.log(`hang trigger: a ${promptTokens}-token prefill; rank 1 enters the AllGather that rank 0 skips`);
    for (const r of this.ranks) r.send('hang');
  }

  /** SGLang's crash path: the scheduler's exception, the request dump, the driver's coredump, then abort. */
  crash(promptTokens: number): void {
    const env = this.opts.env ?? {};
    const host = os.hostname();
    const expand = (t: string) => t.replace(/%h/g, host).replace(/%p/g, String(process.pid)).replace(/%t/g, String(Math.floor(Date.now() / 1000)));
    const coreTemplate = env.CUDA_COREDUMP_FILE ?? (env.SGLANG_CUDA_COREDUMP === '1' ? `${env.SGLANG_CUDA_COREDUMP_DIR || '/tmp/sglang_cuda_coredumps'}/cuda_coredump_%h.%p.%t` : this.opts.crashDumpFolder ? `${this.opts.crashDumpFolder}/%h/core.cuda.%t.%p` : null);
    if (coreTemplate) {
      const core = expand(coreTemplate);
      mkdirSync(path.dirname(core), { recursive: true });
      // The real coredump recorded on H200 (an ELF core with CUDA notes), and the driver's own progress lines.
      writeFileSync(core, execFileSync('tar', ['-xJOf', path.join(FIXTURES, 'gpu-h200', 'crash.cuda-coredump.tar.xz')], { maxBuffer: 256 * 1024 * 1024 }));
      const recorded = readFileSync(path.join(FIXTURES, 'gpu-h200', 'crash.stderr.txt'), 'utf8').split('\n').filter((l) => l.includes('coredump:'));
      for (const l of recorded) (this.opts.log ?? (() => undefined))(l.replace(/Writing ELF file to \S+/, `Writing ELF file to ${core}`));
    }
    this.log('Scheduler hit an exception: Traceback (most recent call last):', 0);
    this.log('  File "/sgl-workspace/sglang/python/sglang/srt/managers/scheduler.py", line 2841, in run_batch', 0);
    this.log(`torch.AcceleratorError: CUDA error: an illegal memory access was encountered (a ${promptTokens}-token prefill)`, 0);
    if (this.opts.crashDumpFolder) {
      // SGLang's name: crash_dump_%Y-%m-%d_%H-%M-%S.pkl under <folder>/<host>/ (tokenizer_manager.py dump_requests_before_crash).
      const out = path.join(this.opts.crashDumpFolder, host, `crash_dump_${new Date().toISOString().slice(0, 19).replace('T', '_').replace(/:/g, '-')}.pkl`);
      this.log(`Dumping requests before crash. self.crash_dump_folder='${this.opts.crashDumpFolder}'`);
      const requests = this.seen.map((r) => ({ rid: r.rid, text: r.text, max_new_tokens: r.max, ...(r.temperature !== undefined ? { temperature: r.temperature } : {}), output: r.output, created: r.created, finished: r.finished ?? Date.now() / 1000 }));
      execFileSync('python3', [path.join(HERE, 'emulator', 'write_dump.py')], { input: JSON.stringify({ out, kind: 'crash', tp: Math.max(1, this.ranks.length), launch: process.argv.join(' '), requests }) });
      this.log(`Dumped ${requests.filter((r) => r.output !== null).length} finished and ${requests.filter((r) => r.output === null).length} unfinished requests before crash to ${out}`);
    }
    this.stopRanks();
    this.onCrash();
    if (this.opts.exitOnCrash) process.kill(process.pid, 'SIGABRT');
  }

  async startProfile(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: { output_dir?: string; num_steps?: number; profile_id?: string } = {};
    try {
      body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
    } catch {
      res.writeHead(400);
      return void res.end('bad JSON');
    }
    const dir = body.output_dir ?? this.opts.env?.SGLANG_TORCH_PROFILER_DIR ?? '/tmp';
    this.profile = { dir, id: body.profile_id ?? String(Date.now()), steps: 0, limit: body.num_steps ?? null };
    res.writeHead(200);
    res.end('Start profiling.\n');
  }

  stopProfile(res: ServerResponse): void {
    if (this.profile) this.writeTrace();
    res.writeHead(200);
    res.end('Stop profiling. This will take some time.\n');
  }

  /** A Chrome trace in torch.profiler's export shape: kernels on a GPU stream, runtime calls, a forward range. */
  private writeTrace(): void {
    const p = this.profile!;
    this.profile = null;
    const events: Array<Record<string, unknown>> = [{ ph: 'X', cat: 'user_annotation', name: 'forward', pid: 1, tid: 1, ts: 1000, dur: 9000 }];
    let ts = 1100;
    for (let step = 0; step < 4; step++) {
      for (const [name, dur] of [['void flash_fwd_splitkv_kernel<Flash_fwd_kernel_traits<128, 64, 128, 4, false, false, cutlass::bfloat16_t>, true>(Flash_fwd_params)', 1200], ['sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1_execute_segment_k_off_kernel__5x_cublas', 600], ['void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>, std::array<char*, 1ul> >(int, at::native::FillFunctor<float>, std::array<char*, 1ul>)', 50]] as const) {
        events.push({ ph: 'X', cat: 'cuda_runtime', name: 'cudaLaunchKernel', pid: 1, tid: 1, ts: ts - 20, dur: 8 });
        events.push({ ph: 'X', cat: 'kernel', name, pid: 0, tid: 7, ts, dur, args: { device: 0, stream: 7 } });
        ts += dur + 40;
      }
    }
    mkdirSync(p.dir, { recursive: true });
    writeFileSync(path.join(p.dir, `${p.id}-TP-0.trace.json.gz`), gzipSync(JSON.stringify({ schemaVersion: 1, deviceProperties: [{ id: 0, name: 'NVIDIA H200' }], traceEvents: events, traceName: `${p.id}-TP-0` })));
  }
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

const USAGE = `SGLang emulator: a local server that answers like SGLang (tests, benches, the README demo).

usage: npm run emulator -- [options]
       node --import tsx test/helpers/sglang-emulator.ts [options]

  --scenario NAME            ${['healthy', 'ttft-spike', 'queue-pressure', 'hung', 'reset', 'garbage', 'huge-body', 'api-key', 'old-server', 'generate-stalled'].join(' | ')} (default healthy)
  --port N                   port on 127.0.0.1 (default 30000)
  --latency PATH=MS,...      extra latency per endpoint, e.g. /metrics=800,/server_info=200
  --hang-prompt-tokens N     /generate never answers prompts of N or more tokens (a request-shaped hang)
  --crash-prompt-tokens N    prompts of N or more tokens crash the server: crash dump, log lines, CUDA coredump, SIGABRT
  --slow-prompt-tokens N     prompts of N or more tokens wait --slow-ms before answering (default 3000)
  --slow-ms MS
  --ranks N                  start N rank processes titled sglang::scheduler_TP<n>
  --drift-answers            answer differently from the usual outputs (a wrong-output target)
  SGLang's own flags, accepted: --model-path P, --tp N (--tp-size), --host H, --crash-dump-folder DIR
  Environment read as SGLang reads it: SGLANG_HEALTH_CHECK_TIMEOUT, SGLANG_CUDA_COREDUMP(_DIR),
  CUDA_COREDUMP_FILE, NCCL_DEBUG_FILE, SGLANG_TORCH_PROFILER_DIR.
  --help                     this text`;

const SCENARIOS: readonly Scenario[] = ['healthy', 'ttft-spike', 'queue-pressure', 'hung', 'reset', 'garbage', 'huge-body', 'api-key', 'old-server', 'generate-stalled'];

/** Parses the emulator's command line; throws an Error whose message is meant for people. */
export function parseEmulatorArgs(argv: string[]): EmulatorOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        scenario: { type: 'string' },
        port: { type: 'string' },
        latency: { type: 'string' },
        'hang-prompt-tokens': { type: 'string' },
        'crash-prompt-tokens': { type: 'string' },
        'slow-prompt-tokens': { type: 'string' },
        'slow-ms': { type: 'string' },
        ranks: { type: 'string' },
        'drift-answers': { type: 'boolean' },
        'model-path': { type: 'string' },
        tp: { type: 'string' },
        'tp-size': { type: 'string' },
        host: { type: 'string' },
        'crash-dump-folder': { type: 'string' },
      },
    });
  } catch (err) {
    const m = /Unknown option '([^']+)'/.exec((err as Error).message);
    throw new Error(m ? `unknown option ${m[1]} (see --help)` : `${(err as Error).message.replace(/^.*?: /, '')} (see --help)`);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const int = (name: string, raw: string | undefined, min = 0): number | undefined => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}, got "${raw}"`);
    return n;
  };
  const scenario = (v.scenario ?? 'healthy') as Scenario;
  if (!SCENARIOS.includes(scenario)) throw new Error(`unknown scenario "${v.scenario}"; one of: ${SCENARIOS.join(', ')}`);
  const latency = v.latency
    ? Object.fromEntries(
        v.latency.split(',').map((kv) => {
          const [p, ms] = kv.split('=');
          if (!p?.startsWith('/') || !Number.isFinite(Number(ms))) throw new Error(`--latency takes PATH=MS pairs, e.g. /metrics=800; got "${kv}"`);
          return [p, Number(ms)];
        }),
      )
    : undefined;
  const opts: EmulatorOptions = { scenario, port: int('port', v.port, 1) ?? 30000 };
  if (latency) opts.latencyMs = latency;
  const assign = <K extends keyof EmulatorOptions>(key: K, value: EmulatorOptions[K] | undefined) => {
    if (value !== undefined) opts[key] = value;
  };
  assign('hangPromptTokens', int('hang-prompt-tokens', v['hang-prompt-tokens'], 1));
  assign('crashPromptTokens', int('crash-prompt-tokens', v['crash-prompt-tokens'], 1));
  assign('slowPromptTokens', int('slow-prompt-tokens', v['slow-prompt-tokens'], 1));
  assign('slowMs', int('slow-ms', v['slow-ms']));
  assign('ranks', int('ranks', v.ranks));
  assign('tpSize', int('tp', v.tp ?? v['tp-size'], 1));
  assign('crashDumpFolder', v['crash-dump-folder']);
  if (v['drift-answers']) opts.driftAnswers = true;
  return opts;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let opts: EmulatorOptions | 'help';
  try {
    opts = parseEmulatorArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`sglang-emulator: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const emulator = await startEmulator({ ...opts, env: process.env, exitOnCrash: true, log: (line) => process.stderr.write(`${line}\n`) });
  process.stderr.write(`SGLang emulator (${opts.scenario}) on ${emulator.url}\n`);
  const stop = () => void emulator.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
