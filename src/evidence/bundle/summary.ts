import { gaugeValues, histogramAverage, metricSum, parsePrometheus, stageAverages } from '../../sglang/metrics.js';
import { isObject, maxOf, normaliseLoads, sumOf } from '../../sglang/loads.js';
import { computeSignals, type Signal } from '../../triage/signals.js';
import type { EndpointState, RawBundle } from './read.js';

export type BundleRole = 'baseline' | 'replay' | 'live';

/** The facts of one bundle, in the reference tool's shape plus our endpoint outcomes and typed signals. */
export interface BundleSummary {
  artifact_type: 'incident_bundle';
  bundle_dir: string;
  role: BundleRole;
  base_url: string | null;
  server: string | null;
  collected_at: string | null;
  endpoints: Record<string, { path: string; state: EndpointState; status: number | null; error: string | null }>;
  health: {
    health_ok: boolean;
    health_generate_ok: boolean;
    health_state: EndpointState;
    health_generate_state: EndpointState;
    health_status: number | null;
  };
  model: { model_path: string | null; served_model_name: string | null; weight_version: string | null; model_type: string | null; version: string | null };
  topology: { tp_size: number | null; dp_size: number | null; pp_size: number | null; ep_size: number | null; disaggregation_mode: string | null; attention_backend: string | null; enable_metrics: boolean | null; speculative_algorithm: string | null };
  capacity: { max_total_num_tokens: number | null; max_req_input_len: number | null; effective_max_running_requests_per_dp: number | null };
  point_in_time_load: {
    envelope: string;
    running_reqs: number | null;
    waiting_reqs: number | null;
    token_usage: number | null;
    throughput: number | null;
    cache_hit_rate: number | null;
    retracted_reqs: number | null;
    spec_accept_length: number | null;
  };
  metrics: {
    available: boolean;
    request_count: number | null;
    prompt_tokens_total: number | null;
    generation_tokens_total: number | null;
    cached_tokens_total: number | null;
    lifetime_cache_hit_rate: number | null;
    aborted_requests: number | null;
    avg_ttft_seconds: number | null;
    avg_e2e_seconds: number | null;
    avg_queue_time_seconds: number | null;
    stage_avg_seconds_max_tp_rank: Record<string, number>;
  };
  signals: Signal[];
}

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
  const metricsText = ep['metrics.txt']?.state === 'ok' ? (ep['metrics.txt']!.text ?? '') : '';
  const m = parsePrometheus(metricsText);
  const health = ep['health.txt']!;
  const healthGenerate = ep['health_generate.txt']!;

  const prompt = metricSum(m, 'sglang:prompt_tokens_total');
  const cached = cachedTokens(m);
  const retracted = maxOf(loads.rows, (r) => r.queues?.retracted ?? null) ?? sumNullable(gaugeValues(m, 'sglang:num_retracted_reqs'));

  const summary: Omit<BundleSummary, 'signals'> = {
    artifact_type: 'incident_bundle',
    bundle_dir: raw.dir,
    role: roleFromPath(rel, raw.metadata),
    base_url: str(raw.metadata.base_url),
    server: str(raw.metadata.server),
    collected_at: str(raw.metadata.collected_at_iso) ?? str(raw.metadata.collected_at),
    endpoints: Object.fromEntries(Object.values(ep).map((e) => [e.file, { path: e.path, state: e.state, status: e.status, error: e.error }])),
    health: {
      health_ok: health.state === 'ok',
      health_generate_ok: healthGenerate.state === 'ok',
      health_state: health.state,
      health_generate_state: healthGenerate.state,
      health_status: health.status,
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
      enable_metrics: bool(server.enable_metrics),
      speculative_algorithm: str(server.speculative_algorithm),
    },
    capacity: {
      max_total_num_tokens: num(server.max_total_num_tokens),
      max_req_input_len: num(server.max_req_input_len),
      effective_max_running_requests_per_dp: num(internal.effective_max_running_requests_per_dp) ?? loads.rows[0]?.maxRunningRequests ?? null,
    },
    point_in_time_load: {
      envelope: loads.envelope,
      running_reqs: sumOf(loads.rows, (r) => r.running) ?? sumNullable(gaugeValues(m, 'sglang:num_running_reqs')),
      waiting_reqs: sumOf(loads.rows, (r) => r.waiting) ?? sumNullable(gaugeValues(m, 'sglang:num_queue_reqs')),
      token_usage: maxOf(loads.rows, (r) => r.tokenUsage) ?? maxNullable(gaugeValues(m, 'sglang:token_usage')),
      throughput: sumOf(loads.rows, (r) => r.genThroughput) ?? sumNullable(gaugeValues(m, 'sglang:gen_throughput')),
      cache_hit_rate: loads.rows.length === 1 ? loads.rows[0]!.cacheHitRate : maxNullable(gaugeValues(m, 'sglang:cache_hit_rate')),
      retracted_reqs: retracted,
      spec_accept_length: maxOf(loads.rows, (r) => r.specAcceptLength) ?? num(internal.avg_spec_accept_length) ?? maxNullable(gaugeValues(m, 'sglang:spec_accept_length')),
    },
    metrics: {
      available: m.size > 0,
      request_count: metricSum(m, 'sglang:num_requests_total'),
      prompt_tokens_total: prompt,
      generation_tokens_total: metricSum(m, 'sglang:generation_tokens_total'),
      cached_tokens_total: cached,
      lifetime_cache_hit_rate: prompt && cached !== null ? cached / prompt : null,
      aborted_requests: metricSum(m, 'sglang:num_aborted_requests_total'),
      avg_ttft_seconds: histogramAverage(m, 'sglang:time_to_first_token_seconds'),
      avg_e2e_seconds: histogramAverage(m, 'sglang:e2e_request_latency_seconds'),
      avg_queue_time_seconds: histogramAverage(m, 'sglang:queue_time_seconds'),
      stage_avg_seconds_max_tp_rank: stageAverages(m),
    },
  };
  return { ...summary, signals: computeSignals(summary) };
}

/** cached_tokens_total has a cache_source label in 2026 (device/host/storage/total): avoid double counting. */
function cachedTokens(m: ReturnType<typeof parsePrometheus>): number | null {
  const samples = m.get('sglang:cached_tokens_total');
  if (!samples?.length) return null;
  const total = samples.filter((s) => s.labels.cache_source === 'total');
  const use = total.length ? total : samples.filter((s) => s.labels.cache_source === undefined || s.labels.cache_source !== 'total');
  return use.reduce((a, s) => a + s.value, 0);
}

function sumNullable(values: number[]): number | null {
  return values.length ? values.reduce((a, b) => a + b, 0) : null;
}

function maxNullable(values: number[]): number | null {
  return values.length ? Math.max(...values) : null;
}
