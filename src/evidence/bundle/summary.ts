import { healthVerdict } from '../../sglang/health.js';
import { counterSnapshot, duplicatedAcrossRanks, gaugeAcrossRanks, parsePrometheus, type MetricIndex } from '../../sglang/metrics.js';
import { isObject, maxOf, normaliseLoads, sumOf, type LoadsSnapshot } from '../../sglang/loads.js';
import { redactValue } from '../../sglang/redact.js';
import type { RawBundle } from './read.js';
import { computeSignals } from './signals.js';
import type { BundleRole, BundleSummary, SummaryInput } from './types.js';
import { lifetimeView, windowView, type LatencyView } from './window.js';

export type { BundleRole, BundleSummary } from './types.js';

const str = (v: unknown): string | null => (typeof v === 'string' && v.length ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);

export function roleFromPath(rel: string, metadata: Record<string, unknown>): BundleRole {
  const declared = metadata.role;
  if (declared === 'baseline' || declared === 'replay' || declared === 'live') return declared;
  const lower = rel.toLowerCase();
  if (/(^|\/)replay/.test(lower)) return 'replay';
  if (/(^|\/)baseline/.test(lower)) return 'baseline';
  return 'live';
}

export function summariseBundle(raw: RawBundle, rel: string): BundleSummary {
  const ep = raw.endpoints;
  const model = isObject(ep['model_info.json']?.json) ? (ep['model_info.json']!.json as Record<string, unknown>) : {};
  const server = isObject(ep['server_info.json']?.json) ? (ep['server_info.json']!.json as Record<string, unknown>) : {};
  const internal = Array.isArray(server.internal_states) && isObject(server.internal_states[0]) ? (server.internal_states[0] as Record<string, unknown>) : {};
  const loadsBody = ep['loads_all.json']?.state === 'ok' ? ep['loads_all.json']!.json : ep['loads_core_queues_disagg.json']?.json;
  const loads = normaliseLoads(loadsBody);
  const metricsFile = ep['metrics.txt'];
  const metricsText = metricsFile?.state === 'ok' ? (metricsFile.text ?? '') : '';
  const m = parsePrometheus(metricsText);
  const health = ep['health.txt']!;
  const healthGenerate = ep['health_generate.txt']!;
  // /metrics is mounted only with --enable-metrics (http_server.py: `if server_args.enable_metrics: add_prometheus_middleware`).
  const metricsEnabled = bool(server.enable_metrics) ?? (metricsFile?.state === 'ok' ? true : metricsFile?.state === 'http-error' && metricsFile.status === 404 ? false : null);

  const counters = counterSnapshot(m);
  const lifetime = lifetimeView(counters);
  const { window, note } = captureWindow(raw, counters);
  const pointInTime = pointInTimeLoad(loads, m, internal, metricsEnabled);

  const summary: SummaryInput = {
    artifact_type: 'incident_bundle',
    bundle_dir: raw.dir,
    role: roleFromPath(rel, raw.metadata),
    base_url: str(raw.metadata.base_url),
    server: str(raw.metadata.server),
    collected_at: str(raw.metadata.collected_at_iso) ?? str(raw.metadata.collected_at),
    endpoints: Object.fromEntries(Object.values(ep).map((e) => [e.file, { path: e.path, state: e.state, status: e.status, error: e.error, elapsed_ms: e.elapsedMs }])),
    health: {
      health_ok: health.state === 'ok',
      health_generate_ok: healthGenerate.state === 'ok',
      health_state: health.state,
      health_generate_state: healthGenerate.state,
      health_status: health.status,
      health_generate_status: healthGenerate.status,
      health_elapsed_ms: health.elapsedMs,
      health_generate_elapsed_ms: healthGenerate.elapsedMs,
      health_verdict: healthVerdict(health.state, health.status, health.elapsedMs),
      health_generate_verdict: healthVerdict(healthGenerate.state, healthGenerate.status, healthGenerate.elapsedMs),
    },
    model: {
      model_path: str(model.model_path) ?? str(server.model_path),
      served_model_name: str(server.served_model_name),
      weight_version: str(model.weight_version) ?? str(server.weight_version),
      model_type: str(model.model_type),
      version: str(server.version),
    },
    topology: {
      tp_size: num(server.tp_size),
      dp_size: num(server.dp_size),
      pp_size: num(server.pp_size),
      ep_size: num(server.ep_size),
      disaggregation_mode: str(server.disaggregation_mode),
      attention_backend: str(server.attention_backend),
      enable_metrics: metricsEnabled,
      speculative_algorithm: str(server.speculative_algorithm),
    },
    capacity: {
      max_total_num_tokens: num(server.max_total_num_tokens),
      max_req_input_len: num(server.max_req_input_len),
      effective_max_running_requests_per_dp: num(internal.effective_max_running_requests_per_dp) ?? loads.rows[0]?.maxRunningRequests ?? null,
    },
    point_in_time_load: pointInTime,
    metrics: {
      available: m.size > 0,
      gauges_per_tp_rank: duplicatedAcrossRanks(m),
      request_count: counters.requests,
      prompt_tokens_total: counters.promptTokens,
      generation_tokens_total: counters.generationTokens,
      cached_tokens_total: counters.cachedTokens,
      lifetime_cache_hit_rate: lifetime.cache_hit_rate,
      aborted_requests: counters.abortedRequests,
      avg_ttft_seconds: lifetime.avg_ttft_seconds,
      avg_e2e_seconds: lifetime.avg_e2e_seconds,
      avg_queue_time_seconds: lifetime.avg_queue_time_seconds,
      stage_avg_seconds_max_tp_rank: lifetime.stage_avg_seconds_max_tp_rank,
      counters,
    },
    window,
    window_note: note,
    latency: window ?? lifetime,
  };
  // Files were redacted when written; a hand-placed bundle was not, and the summary is written and printed.
  return redactValue({ ...summary, signals: computeSignals(summary) });
}

/** Values /v1/loads takes from the scheduler's metric stats, which only --enable-metrics fills (else 0). */
const STATS_FIELDS = ['throughput', 'cache_hit_rate', 'retracted_reqs'] as const;

function pointInTimeLoad(loads: LoadsSnapshot, m: MetricIndex, internal: Record<string, unknown>, metricsEnabled: boolean | null): BundleSummary['point_in_time_load'] {
  const load: BundleSummary['point_in_time_load'] = {
    envelope: loads.envelope,
    running_reqs: sumOf(loads.rows, (r) => r.running) ?? gaugeAcrossRanks(m, 'sglang:num_running_reqs', 'sum'),
    waiting_reqs: sumOf(loads.rows, (r) => r.waiting) ?? gaugeAcrossRanks(m, 'sglang:num_queue_reqs', 'sum'),
    used_tokens: sumOf(loads.rows, (r) => r.usedTokens) ?? gaugeAcrossRanks(m, 'sglang:num_used_tokens', 'sum'),
    total_tokens: sumOf(loads.rows, (r) => r.totalTokens),
    token_usage: maxOf(loads.rows, (r) => r.tokenUsage) ?? gaugeAcrossRanks(m, 'sglang:token_usage', 'max'),
    throughput: sumOf(loads.rows, (r) => r.genThroughput) ?? gaugeAcrossRanks(m, 'sglang:gen_throughput', 'sum'),
    cache_hit_rate: loads.rows.length === 1 ? loads.rows[0]!.cacheHitRate : gaugeAcrossRanks(m, 'sglang:cache_hit_rate', 'max'),
    retracted_reqs: maxOf(loads.rows, (r) => r.queues?.retracted ?? null) ?? gaugeAcrossRanks(m, 'sglang:num_retracted_reqs', 'sum'),
    spec_accept_length: maxOf(loads.rows, (r) => r.specAcceptLength) ?? num(internal.avg_spec_accept_length) ?? gaugeAcrossRanks(m, 'sglang:spec_accept_length', 'max'),
    not_measured: [],
  };
  if (metricsEnabled === false) for (const f of STATS_FIELDS) load[f] = null;
  const notMeasured: string[] = [];
  for (const f of ['running_reqs', 'waiting_reqs', 'token_usage', ...STATS_FIELDS] as const) if (load[f] === null) notMeasured.push(f);
  load.not_measured = notMeasured;
  return load;
}

function captureWindow(raw: RawBundle, end0: ReturnType<typeof counterSnapshot>): { window: LatencyView | null; note: string | null } {
  const w = raw.metadata.window;
  if (!isObject(w)) return { window: null, note: null };
  if (w.outcome !== 'ok' || raw.windowMetrics === null) {
    return { window: null, note: `the ${num(w.seconds_requested) ?? '?'} s /metrics window gave no rates (${typeof w.error === 'string' ? w.error : String(w.outcome)}): lifetime averages used` };
  }
  const seconds = num(w.seconds) ?? num(w.seconds_requested) ?? 0;
  const end = counterSnapshot(parsePrometheus(raw.windowMetrics));
  const r = windowView(end0, end, seconds, 'capture-window', `over the ${seconds.toFixed(1)} s window of capture --window`);
  return r.ok ? { window: r.view, note: null } : { window: null, note: `no rates over the capture window: ${r.reason}; lifetime averages used` };
}
