import type { BundleSummary } from '../evidence/bundle/summary.js';

/** Stable ids: rules and tests key on these, people read `text`. */
export type SignalId =
  | 'health-failed'
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

type SummaryInput = Omit<BundleSummary, 'signals'>;

const TRANSPORT_FAILURES = new Set(['timeout', 'reset', 'refused']);
const f3 = (v: number) => v.toFixed(3);

/** Every rule of the reference tool, plus what a senior SGLang engineer adds. Pure. */
export function computeSignals(s: SummaryInput): Signal[] {
  const out: Signal[] = [];
  const add = (id: SignalId, level: Signal['level'], text: string, file: string) => out.push({ id, level, text, file });
  const endpoints = Object.entries(s.endpoints);
  const transport = endpoints.filter(([, e]) => TRANSPORT_FAILURES.has(e.state));
  const answered = endpoints.filter(([, e]) => e.state !== 'missing' && !TRANSPORT_FAILURES.has(e.state));
  const h = s.health;

  if (endpoints.length && endpoints.every(([, e]) => e.state === 'refused' || e.state === 'missing') && endpoints.some(([, e]) => e.state === 'refused')) {
    add('server-unreachable', 'critical', 'Every endpoint refused the connection: the server process is gone or not listening. Look for a crash dump and the end of the server log.', 'health.txt.error.json');
  } else if (transport.length > 0) {
    const list = transport.map(([file, e]) => `${file}=${e.state}`).join(', ');
    add(
      'control-plane-degraded',
      answered.length ? 'warning' : 'critical',
      `Control plane degraded: ${transport.length} of ${endpoints.length} endpoints failed at transport level (${list}). Timeouts, resets and refusals mean the HTTP server or the scheduler behind it is stalling.`,
      transport[0]![0].endsWith('.txt') ? `${transport[0]![0]}.error.json` : transport[0]![0],
    );
  }

  if (h.health_state === 'missing') {
    // not collected
  } else if (TRANSPORT_FAILURES.has(h.health_state)) {
    add('health-no-verdict', 'critical', `/health got no verdict (${h.health_state}): client transport failure or timeout, no health answer was received.`, 'health.txt.error.json');
  } else if (!h.health_ok) {
    add('health-failed', 'critical', `/health failed (status ${h.health_status ?? 'n/a'}). Check start-up, shutdown, crash and scheduler health.`, 'health.txt.error.json');
  }
  if (h.health_ok && !h.health_generate_ok && h.health_generate_state !== 'missing') {
    add(
      'health-generate-failed',
      'critical',
      `/health ok but /health_generate failed (${h.health_generate_state}): HTTP is alive but the runtime or scheduler path is not producing tokens.`,
      'health_generate.txt.error.json',
    );
  }
  if (s.endpoints['metrics.txt']?.state === 'http-error' && s.endpoints['metrics.txt'].status === 404) {
    add('metrics-disabled', 'info', 'metrics disabled (--enable-metrics not set): latency signals are unavailable.', 'metrics.txt.error.json');
  } else if (s.topology.enable_metrics === false && !s.metrics.available) {
    add('metrics-disabled', 'info', 'metrics disabled (--enable-metrics not set)', 'server_info.json');
  }

  const load = s.point_in_time_load;
  const m = s.metrics;
  if (load.waiting_reqs !== null && load.waiting_reqs > 0) {
    add('queue-buildup', 'warning', `Point-in-time load shows queue build-up: waiting_reqs=${load.waiting_reqs} (running=${load.running_reqs ?? 'n/a'}).`, 'loads_all.json');
  }
  if (m.avg_queue_time_seconds !== null && m.avg_queue_time_seconds >= 0.5 && m.avg_ttft_seconds !== null && m.avg_queue_time_seconds >= 0.5 * m.avg_ttft_seconds) {
    add('queue-time-dominates', 'warning', `Queue time dominates TTFT: avg_queue=${f3(m.avg_queue_time_seconds)}s of avg_ttft=${f3(m.avg_ttft_seconds)}s. Requests wait for admission, not for compute.`, 'metrics.txt');
  }
  if (load.token_usage !== null && load.token_usage >= 0.9) {
    add('kv-pressure', 'warning', `Token usage ${f3(load.token_usage)} is near saturation: KV or token-capacity pressure may explain latency.`, 'loads_all.json');
  }
  if (load.retracted_reqs !== null && load.retracted_reqs > 0) {
    add('retractions', 'warning', `${load.retracted_reqs} retracted requests: the KV pool is full and the scheduler is evicting running work.`, 'loads_all.json');
  }
  if (m.avg_ttft_seconds !== null && m.avg_queue_time_seconds !== null && m.avg_ttft_seconds > 2.0 && m.avg_queue_time_seconds < 0.2) {
    add(
      'ttft-high-queue-low',
      'warning',
      `Average TTFT is high (${f3(m.avg_ttft_seconds)}s) while average queue time is low (${f3(m.avg_queue_time_seconds)}s). This looks like prefill or request-path work, not queue pressure.`,
      'metrics.txt',
    );
  }
  const stages = m.stage_avg_seconds_max_tp_rank;
  const prefill = stages.prefill_forward;
  const requestProcess = stages.request_process;
  if (prefill !== undefined && requestProcess !== undefined && prefill > Math.max(0.5, requestProcess * 10)) {
    add('prefill-dominates', 'warning', `Prefill forward dominates stage timing: prefill_forward~${f3(prefill)}s vs request_process~${f3(requestProcess)}s.`, 'metrics.txt');
  }
  // Lifetime hit rate from counters vs the last prefill batch: a collapse means the prefix cache stopped helping.
  if (m.lifetime_cache_hit_rate !== null && load.cache_hit_rate !== null && m.lifetime_cache_hit_rate >= 0.3 && load.cache_hit_rate < m.lifetime_cache_hit_rate / 3) {
    add(
      'cache-hit-collapse',
      'warning',
      `Cache-hit collapse: the last prefill hit ${f3(load.cache_hit_rate)} against a lifetime ${f3(m.lifetime_cache_hit_rate)}. Prompts stopped sharing prefixes (new template, routing change) or the cache was flushed; prefill work rises.`,
      'loads_all.json',
    );
  }
  if (s.topology.speculative_algorithm && load.spec_accept_length !== null && load.spec_accept_length <= 1) {
    add('spec-collapse', 'warning', `Speculative accept length ${load.spec_accept_length} <= 1: speculative decoding gives nothing; compare with the previous baseline.`, 'loads_all.json');
  }
  if (load.running_reqs === 0 && load.waiting_reqs === 0) {
    add('idle-capture', 'info', 'The capture was idle (running=0, waiting=0). Recollect under live traffic or replay the workload if the problem is intermittent.', 'loads_all.json');
  }
  return out;
}

export function hasSignal(signals: readonly Signal[], id: SignalId): Signal | undefined {
  return signals.find((s) => s.id === id);
}
