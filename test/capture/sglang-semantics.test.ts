/**
 * Bundles read the way SGLang means its answers. Response shapes come from SGLang's own handlers
 * (froststeam/sglang @ 382343f8):
 * - /health, /health_generate: `python/sglang/srt/entrypoints/http_server.py` `health_generate` (503 after
 *   HEALTH_CHECK_TIMEOUT = SGLANG_HEALTH_CHECK_TIMEOUT, 20 s; 503 at once while starting or shutting down);
 * - /get_load: the same file's `get_load` shim (num_reqs = running + waiting, num_tokens = num_total_tokens,
 *   num_pending_tokens = total - used) and the 2025 `scheduler_metrics_mixin.get_load` (four fields);
 * - /v1/loads: `entrypoints/v1_loads.py` and `managers/load_snapshot.py` (`LoadSnapshot.to_dict`), whose
 *   gen_throughput / cache_hit_rate come from scheduler stats that only --enable-metrics fills
 *   (`scheduler_components/metrics_reporter.py`, which also sets cache_hit_rate = 0.0 at every decode report);
 * - /metrics gauges: `observability/metrics_collector.py` labels (tp_rank, pp_rank, moe_ep_rank, dp_rank), one
 *   exporter per attn-TP rank 0 unless --enable-metrics-for-all-schedulers.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EMPTY_REGISTRY } from '../../src/config/servers.js';
import { reportSchema } from '../../src/contracts/report.js';
import { readBundleFiles } from '../../src/evidence/bundle/read.js';
import { summariseBundle } from '../../src/evidence/bundle/summary.js';
import { captureStep } from '../../src/pipelines/capture-step.js';
import { routeStep } from '../../src/pipelines/route-step.js';
import { FIXTURES, withTempDir } from '../helpers/tmp.js';

const signal = new AbortController().signal;
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A real server; `answer` returns [status, body, delayMs] per path (and per call, via `hits`). */
async function serve(answer: (p: string, hits: number) => [number, string, number?] | undefined): Promise<string> {
  const counts = new Map<string, number>();
  server = createServer((req, res) => {
    const p = (req.url ?? '/').split('?')[0]!;
    const n = (counts.get(p) ?? 0) + 1;
    counts.set(p, n);
    const a = answer(p, n) ?? (p.startsWith('/health') ? [200, ''] : [404, '{"detail":"Not Found"}']);
    setTimeout(() => {
      res.writeHead(a[0], { 'content-type': p === '/metrics' || p.startsWith('/health') ? 'text/plain' : 'application/json' });
      res.end(a[1]);
    }, a[2] ?? 0);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const capture = (url: string, dir: string, extra: Partial<Parameters<typeof captureStep>[0]> = {}) =>
  captureStep({ baseUrl: url, outDir: dir, role: 'live', signal, now: () => new Date(), timeoutS: 5, ...extra });

const SERVER_INFO = (over: Record<string, unknown> = {}) => JSON.stringify({ model_path: 'Qwen/Qwen3-8B', tp_size: 1, dp_size: 1, pp_size: 1, ep_size: 1, enable_metrics: true, ...over });
const sched = (tp: number, extra = '') => `engine_type="unified",model_name="Qwen/Qwen3-8B",moe_ep_rank="0",pp_rank="0",tp_rank="${tp}"${extra}`;
const tok = 'engine_type="unified",model_name="Qwen/Qwen3-8B"';

/** /metrics as SGLang exposes it, from cumulative counters. */
function metrics(c: { requests: number; ttftSum: number; queueSum: number; prompt: number; cached: number; prefill?: number; rp?: number; running?: number; ranks?: number }): string {
  const lines = [
    `sglang:num_requests_total{${tok}} ${c.requests}.0`,
    `sglang:prompt_tokens_total{${tok}} ${c.prompt}.0`,
    `sglang:generation_tokens_total{${tok}} ${c.requests * 100}.0`,
    `sglang:cached_tokens_total{cache_source="total",${tok}} ${c.cached}.0`,
    `sglang:time_to_first_token_seconds_sum{${tok}} ${c.ttftSum}`,
    `sglang:time_to_first_token_seconds_count{${tok}} ${c.requests}.0`,
    `sglang:e2e_request_latency_seconds_sum{${tok}} ${c.ttftSum * 2}`,
    `sglang:e2e_request_latency_seconds_count{${tok}} ${c.requests}.0`,
  ];
  for (let tp = 0; tp < (c.ranks ?? 1); tp++) {
    lines.push(
      `sglang:queue_time_seconds_sum{${sched(tp)}} ${c.queueSum}`,
      `sglang:queue_time_seconds_count{${sched(tp)}} ${c.requests}.0`,
      `sglang:num_running_reqs{${sched(tp)}} ${c.running ?? 1}.0`,
      `sglang:num_queue_reqs{${sched(tp)}} 0.0`,
      `sglang:gen_throughput{${sched(tp)}} 800.0`,
      `sglang:token_usage{${sched(tp)}} 0.3`,
      `sglang:per_stage_req_latency_seconds_sum{${sched(tp, ',stage="prefill_forward"')}} ${c.prefill ?? c.requests * 0.05}`,
      `sglang:per_stage_req_latency_seconds_count{${sched(tp, ',stage="prefill_forward"')}} ${c.requests}.0`,
      `sglang:per_stage_req_latency_seconds_sum{${sched(tp, ',stage="request_process"')}} ${c.rp ?? c.requests * 0.01}`,
      `sglang:per_stage_req_latency_seconds_count{${sched(tp, ',stage="request_process"')}} ${c.requests}.0`,
    );
  }
  return `${lines.join('\n')}\n`;
}

describe('health verdicts as SGLang gives them', () => {
  it('a 503 after the probe waited (SGLANG_HEALTH_CHECK_TIMEOUT=5, as in the real H200 run) is a stalled scheduler: hang, with the wait from metadata.json', async () => {
    // SGLang returns Response(status_code=503), empty body, once HEALTH_CHECK_TIMEOUT passed without a token.
    const url = await serve((p) => (p.startsWith('/health') ? [503, '', 5_100] : p === '/server_info' ? [200, SERVER_INFO()] : p === '/model_info' ? [200, '{"model_path": "Qwen/Qwen3-8B"}'] : undefined));
    await withTempDir(async (dir) => {
      const r = await capture(url, dir, { timeoutS: undefined });
      const meta = JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8'));
      const healthEntry = meta.endpoints.find((e: { file: string }) => e.file === 'health.txt');
      expect(healthEntry).toMatchObject({ outcome: 'http-error', status: 503 });
      expect(healthEntry.elapsed_ms).toBeGreaterThanOrEqual(5_000);
      expect(r.summary.health.health_verdict).toBe('stalled');
      expect(r.summary.signals.map((s) => s.id)).toContain('health-stalled');
      const { report } = await routeStep(dir, { registry: EMPTY_REGISTRY, signal });
      expect(report.problemClass).toBe('hang');
      expect(report.facts).toMatchObject({ healthVerdict: 'stalled' });
      expect(reportSchema.safeParse(report).success).toBe(true);
      expect(report.strongestSignal).toMatch(/503 after 5\.\d s/);
      expect(report.evidence.some((e) => e.file === 'metadata.json')).toBe(true);
    });
  }, 30_000);

  it('the real H200 closed-loop hang: the replay-time bundle of the hung target reads as a stalled probe', async () => {
    // test/fixtures/gpu-h200-closed-loop: the target ran with SGLANG_HEALTH_CHECK_TIMEOUT=5 (lab/gpu-e2e/closed_loop.sh).
    const dir = path.join(FIXTURES, 'gpu-h200-closed-loop', 'hang', 'replay', 'bundle-2');
    const s = summariseBundle(await readBundleFiles(dir), 'replay/bundle-2');
    expect(s.health).toMatchObject({ health_status: 503, health_verdict: 'stalled', health_generate_verdict: 'stalled' });
    expect(s.signals.map((x) => x.id)).toContain('health-stalled');
  });

  it('a 503 at once is starting or shutting down: unhealthy, collect-more, not a hang', async () => {
    const url = await serve((p) => (p.startsWith('/health') ? [503, ''] : p === '/server_info' ? [200, SERVER_INFO()] : undefined));
    await withTempDir(async (dir) => {
      const r = await capture(url, dir);
      expect(r.summary.health.health_verdict).toBe('refusing');
      const { report } = await routeStep(dir, { registry: EMPTY_REGISTRY, signal });
      expect(report.problemClass).toBe('unhealthy');
      expect(report.nextStep.skill).toBe('collect-more');
      expect(report.strongestSignal).toMatch(/starting or shutting down/);
    });
  });

  it('/health 200 (SGLANG_ENABLE_HEALTH_ENDPOINT_GENERATION=0) with /health_generate 503 after the probe: still a stall', async () => {
    await withTempDir(async (dir) => {
      await writeBundle(dir, { health: 'ok', healthGenerate: { status: 503, elapsedMs: 20_040 } });
      const { report } = await routeStep(dir, { registry: EMPTY_REGISTRY, signal });
      expect(report.problemClass).toBe('hang');
      expect(report.strongestSignal).toMatch(/\/health_generate answered 503 after 20\.0 s/);
    });
  });

  it('a reference-tool bundle (no recorded wait) with a 503 says the duration is unknown instead of guessing', async () => {
    await withTempDir(async (dir) => {
      await writeBundle(dir, { health: { status: 503, elapsedMs: null }, healthGenerate: { status: 503, elapsedMs: null } });
      const { report } = await routeStep(dir, { registry: EMPTY_REGISTRY, signal });
      expect(report.problemClass).toBe('unhealthy');
      expect(report.bestGuess).toMatch(/does not record how long it waited/);
    });
  });
});

describe('loads and metrics read the way SGLang means them', () => {
  it('/get_load today (shim) and in 2025: num_reqs is running + waiting, num_tokens is used + pending', async () => {
    for (const [body, expected] of [
      // http_server.py get_load shim
      [[{ dp_rank: 0, num_reqs: 12, num_waiting_reqs: 5, num_tokens: 9000, num_pending_tokens: 2500, ts_tic: 1234.5 }, { dp_rank: 1, num_reqs: 3, num_waiting_reqs: 0, num_tokens: 700, num_pending_tokens: 0, ts_tic: 1234.5 }], { running_reqs: 10, waiting_reqs: 5, used_tokens: 7200, total_tokens: 9700 }],
      // scheduler_metrics_mixin.get_load (2025): no num_pending_tokens, so used tokens are unknown
      [[{ dp_rank: 0, num_reqs: 8, num_waiting_reqs: 2, num_tokens: 4096 }], { running_reqs: 6, waiting_reqs: 2, used_tokens: null, total_tokens: 4096 }],
    ] as const) {
      const url = await serve((p) => (p === '/get_load' ? [200, JSON.stringify(body)] : p === '/server_info' ? [200, SERVER_INFO({ enable_metrics: false })] : undefined));
      await withTempDir(async (dir) => {
        const r = await capture(url, dir);
        expect(r.capture.endpoints.find((e) => e.spec.file === 'loads_all.json')!.path).toBe('/get_load');
        expect(r.summary.point_in_time_load).toMatchObject({ envelope: 'get_load', ...expected });
      });
      server!.closeAllConnections();
      await new Promise<void>((res) => server!.close(() => res()));
      server = undefined;
    }
  });

  it('--enable-metrics-for-all-schedulers: 4 TP ranks exporting the same gauges are read once, not summed', async () => {
    const url = await serve((p) => (p === '/metrics' ? [200, metrics({ requests: 100, ttftSum: 10, queueSum: 1, prompt: 10000, cached: 5000, running: 7, ranks: 4 })] : p === '/server_info' ? [200, SERVER_INFO({ tp_size: 4, enable_metrics_for_all_schedulers: true })] : undefined));
    await withTempDir(async (dir) => {
      const r = await capture(url, dir);
      expect(r.summary.metrics.gauges_per_tp_rank).toBe(true);
      expect(r.summary.point_in_time_load.running_reqs).toBe(7);
      expect(r.summary.point_in_time_load.throughput).toBe(800);
      expect(r.summary.metrics.avg_queue_time_seconds).toBeCloseTo(0.01, 5);
      expect(await readFile(path.join(dir, 'SUMMARY.txt'), 'utf8')).toContain('read once per DP group, not summed');
    });
  });

  it('DP attention: one gauge per dp_rank is summed across DP ranks', async () => {
    const text = [0, 1, 2, 3].map((tp) => `sglang:num_running_reqs{${sched(tp, `,dp_rank="${tp >> 1}"`)}} ${tp >> 1 ? 5 : 3}.0`).join('\n');
    const url = await serve((p) => (p === '/metrics' ? [200, `${text}\n`] : undefined));
    await withTempDir(async (dir) => {
      const r = await capture(url, dir);
      expect(r.summary.point_in_time_load.running_reqs).toBe(8);
    });
  });

  it('without --enable-metrics, /v1/loads throughput and hit rate are 0 in the body and "not measured" in the summary', async () => {
    // LoadSnapshot.to_dict core keys: the scheduler stats behind gen_throughput/cache_hit_rate stay 0.
    const loads = { timestamp: '2026-11-28T01:00:00+00:00', version: '0.5.15', accelerator: 'NVIDIA H200', num_accelerators: 1, loads: [{ timestamp: 1.7e9, dp_rank: 0, num_running_reqs: 4, num_waiting_reqs: 0, num_waiting_uncached_tokens: 0, num_used_tokens: 5000, num_total_tokens: 5000, num_active_tokens: 5000, max_total_num_tokens: 400000, max_running_requests: 2048, token_usage: 0.0125, gen_throughput: 0.0, cache_hit_rate: 0.0, utilization: 0.0, total_prefill_uncached_tokens: 0, total_prefill_busy_us: 0, decode_moments: null, queues: { waiting: 0, grammar: 0, paused: 0, retracted: 0, prealloc_ready: 0 } }] };
    const url = await serve((p) => (p === '/v1/loads' ? [200, JSON.stringify(loads)] : p === '/server_info' ? [200, SERVER_INFO({ enable_metrics: false })] : undefined));
    await withTempDir(async (dir) => {
      const r = await capture(url, dir);
      const load = r.summary.point_in_time_load;
      expect(load).toMatchObject({ running_reqs: 4, token_usage: 0.0125, throughput: null, cache_hit_rate: null, retracted_reqs: null });
      expect(load.not_measured).toEqual(expect.arrayContaining(['throughput', 'cache_hit_rate', 'retracted_reqs']));
      const text = await readFile(path.join(dir, 'SUMMARY.txt'), 'utf8');
      expect(text).toMatch(/throughput=not measured cache_hit_rate=not measured/);
      expect(text).not.toMatch(/throughput=0\.0/);
    });
  });

  it('cache_hit_rate 0 right after a decode report is no collapse on a healthy server', async () => {
    const loads = { loads: [{ dp_rank: 0, num_running_reqs: 30, num_waiting_reqs: 0, token_usage: 0.4, gen_throughput: 2400.5, cache_hit_rate: 0.0 }] };
    const url = await serve((p) => (p === '/v1/loads' ? [200, JSON.stringify(loads)] : p === '/metrics' ? [200, metrics({ requests: 5000, ttftSum: 500, queueSum: 10, prompt: 1_000_000, cached: 700_000 })] : p === '/server_info' ? [200, SERVER_INFO()] : undefined));
    await withTempDir(async (dir) => {
      const r = await capture(url, dir);
      expect(r.summary.metrics.lifetime_cache_hit_rate).toBeCloseTo(0.7, 5);
      expect(r.summary.signals.map((s) => s.id)).not.toContain('cache-hit-collapse');
    });
  });
});

describe('rates over a window', () => {
  // 1000 fast requests, then 10 requests that each waited 5 s for their first token with an empty queue.
  const before = { requests: 1000, ttftSum: 150, queueSum: 10, prompt: 1_000_000, cached: 600_000, prefill: 40, rp: 10 };
  const after = { requests: 1010, ttftSum: 200, queueSum: 10.1, prompt: 1_010_000, cached: 600_500, prefill: 40 + 10 * 4.5, rp: 10 + 10 * 0.01 };

  it('lifetime averages dilute the spike; capture --window sees it, and the verdict says which it used', async () => {
    const url = await serve((p, n) => (p === '/metrics' ? [200, metrics(n === 1 ? before : after)] : p === '/server_info' ? [200, SERVER_INFO()] : undefined));
    await withTempDir(async (dir) => {
      const r = await capture(url, dir, { windowS: 1 });
      expect(r.summary.metrics.avg_ttft_seconds).toBeCloseTo(0.15, 3); // first scrape, lifetime
      expect(r.summary.window).toMatchObject({ source: 'capture-window', requests: 10 });
      expect(r.summary.window!.avg_ttft_seconds).toBeCloseTo(5, 3);
      expect(r.summary.window!.seconds).toBeGreaterThanOrEqual(1);
      expect(r.summary.window!.cache_hit_rate).toBeCloseTo(0.05, 3);
      const meta = JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8'));
      expect(meta.window).toMatchObject({ seconds_requested: 1, start_file: 'metrics.txt', end_file: 'metrics_window.txt', outcome: 'ok' });
      const { report } = await routeStep(dir, { registry: EMPTY_REGISTRY, signal });
      expect(report.problemClass).toBe('slow');
      expect(report.nextStep.skill).toBe('llm-torch-profiler-analysis');
      expect(report.facts.rateWindow).toMatchObject({ source: 'capture-window' });
      expect(reportSchema.safeParse(report).success).toBe(true);
      expect(report.strongestSignal).toMatch(/window of capture --window/);
      // The prefix cache collapsed in the window: 500 of 10 000 new prompt tokens hit, against 0.6 lifetime.
      const summary = JSON.parse(await readFile(path.join(dir, 'summary.json'), 'utf8'));
      expect(summary.signals.map((s: { id: string }) => s.id)).toContain('cache-hit-collapse');
    });
  });

  it('the same server without a window: lifetime averages, no slow verdict, and facts say lifetime when slow', async () => {
    const url = await serve((p) => (p === '/metrics' ? [200, metrics(after)] : p === '/server_info' ? [200, SERVER_INFO()] : undefined));
    await withTempDir(async (dir) => {
      const r = await capture(url, dir);
      expect(r.summary.window).toBeNull();
      expect(r.summary.latency.source).toBe('lifetime');
      expect(r.summary.signals.map((s) => s.id)).not.toContain('ttft-high-queue-low');
    });
  });

  it('two bundles of one server in a folder: rates between them', async () => {
    const url = await serve((p, n) => (p === '/metrics' ? [200, metrics(n === 1 ? before : after)] : p === '/server_info' ? [200, SERVER_INFO()] : undefined));
    await withTempDir(async (dir) => {
      const t0 = Date.parse('2026-11-28T01:00:00Z');
      await capture(url, path.join(dir, 'baseline'), { role: 'baseline', now: () => new Date(t0) });
      await capture(url, path.join(dir, 'live-1'), { role: 'live', now: () => new Date(t0 + 60_000) });
      const { report } = await routeStep(dir, { registry: EMPTY_REGISTRY, signal });
      expect(report.problemClass).toBe('slow');
      expect(report.facts.rateWindow).toMatchObject({ source: 'bundle-pair', seconds: 60 });
      expect(report.strongestSignal).toMatch(/over the 60 s between bundles baseline and live-1/);
    });
  });

  it('a window on a server without /metrics (no --enable-metrics) is recorded as giving no rates, without waiting', async () => {
    const url = await serve((p) => (p === '/server_info' ? [200, SERVER_INFO({ enable_metrics: false })] : undefined));
    await withTempDir(async (dir) => {
      const started = performance.now();
      const r = await capture(url, dir, { windowS: 30 });
      expect(performance.now() - started).toBeLessThan(15_000);
      const meta = JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8'));
      expect(meta.window).toMatchObject({ seconds_requested: 30, outcome: 'http-error' });
      expect(r.summary.window_note).toMatch(/30 s \/metrics window gave no rates/);
    });
  });

  it('a restart between the scrapes is said, and lifetime averages are used', async () => {
    const url = await serve((p, n) => (p === '/metrics' ? [200, metrics(n === 1 ? after : { ...before, requests: 3, ttftSum: 1, prompt: 100, cached: 0 })] : undefined));
    await withTempDir(async (dir) => {
      const r = await capture(url, dir, { windowS: 1 });
      expect(r.summary.window).toBeNull();
      expect(r.summary.window_note).toMatch(/restarted/);
      expect(r.summary.signals.map((s) => s.id)).toContain('window-unavailable');
    });
  });
});

/** A bundle as files, the way capture writes them (or the reference tool, when elapsedMs is null). */
async function writeBundle(dir: string, o: { health: 'ok' | { status: number; elapsedMs: number | null }; healthGenerate: 'ok' | { status: number; elapsedMs: number | null } }) {
  await mkdir(dir, { recursive: true });
  const endpoints: Array<Record<string, unknown>> = [];
  for (const [file, p, v] of [['health.txt', '/health', o.health], ['health_generate.txt', '/health_generate', o.healthGenerate]] as const) {
    if (v === 'ok') {
      await writeFile(path.join(dir, file), '');
      endpoints.push({ file, path: p, outcome: 'ok', status: 200, elapsed_ms: 1003 });
    } else {
      await writeFile(path.join(dir, `${file}.error.json`), JSON.stringify({ ok: false, status: v.status, path: p, error: `HTTP ${v.status}`, outcome: 'http-error' }));
      endpoints.push({ file, path: p, outcome: 'http-error', status: v.status, ...(v.elapsedMs === null ? {} : { elapsed_ms: v.elapsedMs }) });
    }
  }
  await writeFile(path.join(dir, 'model_info.json'), JSON.stringify({ ok: true, status: 200, path: '/model_info', json: { model_path: 'Qwen/Qwen3-8B' } }));
  await writeFile(path.join(dir, 'server_info.json'), JSON.stringify({ ok: true, status: 200, path: '/server_info', json: JSON.parse(SERVER_INFO()) }));
  const hasTiming = endpoints.some((e) => 'elapsed_ms' in e && e.outcome !== 'ok');
  await writeFile(path.join(dir, 'metadata.json'), JSON.stringify({ artifact_type: 'incident_bundle', base_url: 'http://10.0.0.5:30000', collected_at: '20261128_010000', ...(hasTiming || o.health === 'ok' ? { endpoints } : {}) }));
  // Sanity: the summary reads what was written.
  return summariseBundle(await readBundleFiles(dir), '.');
}
