import type { HealthVerdict } from '../../sglang/health.js';
import type { CounterSnapshot } from '../../sglang/metrics.js';
import type { EndpointState } from './read.js';
import type { LatencyView } from './window.js';

export type BundleRole = 'baseline' | 'replay' | 'live';

/** The facts of one bundle, in the reference tool's shape plus our endpoint outcomes and typed signals. */
export interface BundleSummary {
  artifact_type: 'incident_bundle';
  bundle_dir: string;
  role: BundleRole;
  base_url: string | null;
  server: string | null;
  collected_at: string | null;
  endpoints: Record<string, { path: string; state: EndpointState; status: number | null; error: string | null; elapsed_ms: number | null }>;
  health: {
    health_ok: boolean;
    health_generate_ok: boolean;
    health_state: EndpointState;
    health_generate_state: EndpointState;
    health_status: number | null;
    health_generate_status: number | null;
    /** How long each probe waited (metadata.json), null in bundles that do not record it. */
    health_elapsed_ms: number | null;
    health_generate_elapsed_ms: number | null;
    /** SGLang's meaning of each answer (sglang/health.ts): a 503 after the probe is a stall. */
    health_verdict: HealthVerdict;
    health_generate_verdict: HealthVerdict;
  };
  model: { model_path: string | null; served_model_name: string | null; weight_version: string | null; model_type: string | null; version: string | null };
  topology: { tp_size: number | null; dp_size: number | null; pp_size: number | null; ep_size: number | null; disaggregation_mode: string | null; attention_backend: string | null; enable_metrics: boolean | null; speculative_algorithm: string | null };
  capacity: { max_total_num_tokens: number | null; max_req_input_len: number | null; effective_max_running_requests_per_dp: number | null };
  point_in_time_load: {
    envelope: string;
    running_reqs: number | null;
    waiting_reqs: number | null;
    /** KV tokens in use. */
    used_tokens: number | null;
    /** Used plus tokens of queued requests (`num_total_tokens`; old `/get_load`'s `num_tokens`). */
    total_tokens: number | null;
    token_usage: number | null;
    throughput: number | null;
    /**
     * Hit rate of the last prefill report. SGLang sets it to 0 at every decode report
     * (`scheduler_components/metrics_reporter.py`), so it is a moment, not a rate: no signal uses it.
     */
    cache_hit_rate: number | null;
    retracted_reqs: number | null;
    spec_accept_length: number | null;
    /** Fields SGLang did not measure (without --enable-metrics /v1/loads reports them as 0): printed "not measured". */
    not_measured: string[];
  };
  metrics: {
    available: boolean;
    /** --enable-metrics-for-all-schedulers: every TP rank exports the same gauges; read once per DP group. */
    gauges_per_tp_rank: boolean;
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
    counters: CounterSnapshot;
  };
  /** Rates over the capture's own window (`capture --window S`), when it took a second scrape. */
  window: LatencyView | null;
  /** Why a requested window gave no rates (second scrape failed, server restarted), else null. */
  window_note: string | null;
  /** The view the latency signals used: the window when there is one, else lifetime. */
  latency: LatencyView;
  signals: Signal[];
}

export type SummaryInput = Omit<BundleSummary, 'signals'>;

/** Stable ids: rules and tests key on these, people read `text`. */
export type SignalId =
  | 'health-failed'
  | 'health-stalled'
  | 'health-generate-stalled'
  | 'window-unavailable'
  | 'health-no-verdict'
  | 'health-generate-failed'
  | 'server-unreachable'
  | 'control-plane-degraded'
  | 'metrics-disabled'
  | 'queue-buildup'
  | 'queue-time-dominates'
  | 'kv-pressure'
  | 'retractions'
  | 'ttft-high-queue-low'
  | 'prefill-dominates'
  | 'cache-hit-collapse'
  | 'spec-collapse'
  | 'idle-capture';

export interface Signal {
  id: SignalId;
  level: 'critical' | 'warning' | 'info';
  text: string;
  /** The bundle file that shows it. */
  file: string;
}


