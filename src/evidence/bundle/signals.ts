import { SGLANG_HEALTH_CHECK_TIMEOUT_S } from '../../sglang/health.js';
import type { Signal, SignalId, SummaryInput } from './types.js';
import type { LatencyView } from './window.js';

export type { Signal, SignalId } from './types.js';

const TRANSPORT_FAILURES = new Set(['timeout', 'reset', 'refused']);
const f3 = (v: number) => v.toFixed(3);
const secs = (ms: number | null) => (ms === null ? 'an unrecorded time' : `${(ms / 1000).toFixed(1)} s`);

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

  const stalledText = (route: string, ms: number | null) =>
    `${route} answered 503 after ${secs(ms)}: SGLang's one-token health probe got nothing back from the scheduler within SGLANG_HEALTH_CHECK_TIMEOUT (${SGLANG_HEALTH_CHECK_TIMEOUT_S} s by default). The HTTP server is up and the scheduler is stalled.`;
  switch (h.health_verdict) {
    case 'missing':
    case 'ok':
      break;
    case 'no-verdict':
      add('health-no-verdict', 'critical', `/health got no verdict (${h.health_state}): client transport failure or timeout, no health answer was received.`, 'health.txt.error.json');
      break;
    case 'stalled':
      add('health-stalled', 'critical', stalledText('/health', h.health_elapsed_ms), 'health.txt.error.json');
      break;
    case 'refusing':
      add('health-failed', 'critical', `/health answered 503 at once (${secs(h.health_elapsed_ms)}), before any probe: SGLang does that while the server is starting or shutting down.`, 'health.txt.error.json');
      break;
    default:
      add('health-failed', 'critical', `/health failed (status ${h.health_status ?? 'n/a'}${h.health_verdict === 'http-503' ? ', probe duration not recorded' : ''}). Check start-up, shutdown, crash and scheduler health.`, 'health.txt.error.json');
  }
  if (h.health_generate_verdict === 'stalled' && h.health_verdict !== 'stalled') {
    add('health-generate-stalled', 'critical', stalledText('/health_generate', h.health_generate_elapsed_ms), 'health_generate.txt.error.json');
  } else if (h.health_ok && !h.health_generate_ok && h.health_generate_state !== 'missing') {
    add(
      'health-generate-failed',
      'critical',
      `/health ok but /health_generate failed (${h.health_generate_state}): HTTP is alive but the runtime or scheduler path is not producing tokens.`,
      'health_generate.txt.error.json',
    );
  }
  if (s.endpoints['metrics.txt']?.state === 'http-error' && s.endpoints['metrics.txt'].status === 404) {
    add('metrics-disabled', 'info', 'metrics disabled (--enable-metrics not set): latency signals are unavailable, and /v1/loads throughput and cache hit rate are not measured.', 'metrics.txt.error.json');
  } else if (s.topology.enable_metrics === false) {
    add('metrics-disabled', 'info', 'metrics disabled (--enable-metrics not set): /v1/loads throughput and cache hit rate are not measured.', 'server_info.json');
  }
  if (s.window_note) add('window-unavailable', 'info', s.window_note, 'metadata.json');

  const load = s.point_in_time_load;
  if (load.waiting_reqs !== null && load.waiting_reqs > 0) {
    add('queue-buildup', 'warning', `Point-in-time load shows queue build-up: waiting_reqs=${load.waiting_reqs} (running=${load.running_reqs ?? 'not measured'}).`, 'loads_all.json');
  }
  if (load.token_usage !== null && load.token_usage >= 0.9) {
    add('kv-pressure', 'warning', `Token usage ${f3(load.token_usage)} is near saturation: KV or token-capacity pressure may explain latency.`, 'loads_all.json');
  }
  if (load.retracted_reqs !== null && load.retracted_reqs > 0) {
    add('retractions', 'warning', `${load.retracted_reqs} retracted requests: the KV pool is full and the scheduler is evicting running work.`, 'loads_all.json');
  }
  out.push(...latencySignals(s.latency, s.metrics.lifetime_cache_hit_rate, 'metrics.txt'));
  if (s.topology.speculative_algorithm && load.spec_accept_length !== null && load.spec_accept_length <= 1) {
    add('spec-collapse', 'warning', `Speculative accept length ${load.spec_accept_length} <= 1: speculative decoding gives nothing; compare with the previous baseline.`, 'loads_all.json');
  }
  if (load.running_reqs === 0 && load.waiting_reqs === 0) {
    add('idle-capture', 'info', 'The capture was idle (running=0, waiting=0). Recollect under live traffic or replay the workload if the problem is intermittent.', 'loads_all.json');
  }
  return out;
}

/** The signals read from latency counters, over whichever span `view` covers; each says which. */
export const LATENCY_SIGNAL_IDS: readonly SignalId[] = ['queue-time-dominates', 'ttft-high-queue-low', 'prefill-dominates', 'cache-hit-collapse'];

export function latencySignals(view: LatencyView, lifetimeCacheHitRate: number | null, file: string): Signal[] {
  const out: Signal[] = [];
  const add = (id: SignalId, text: string) => out.push({ id, level: 'warning', text: `${text} (${view.description})`, file });
  const ttft = view.avg_ttft_seconds;
  const queue = view.avg_queue_time_seconds;
  if (queue !== null && queue >= 0.5 && ttft !== null && queue >= 0.5 * ttft) {
    add('queue-time-dominates', `Queue time dominates TTFT: avg_queue=${f3(queue)}s of avg_ttft=${f3(ttft)}s. Requests wait for admission, not for compute.`);
  }
  if (ttft !== null && queue !== null && ttft > 2.0 && queue < 0.2) {
    add('ttft-high-queue-low', `Average TTFT is high (${f3(ttft)}s) while average queue time is low (${f3(queue)}s). This looks like prefill or request-path work, not queue pressure.`);
  }
  const prefill = view.stage_avg_seconds_max_tp_rank.prefill_forward;
  const requestProcess = view.stage_avg_seconds_max_tp_rank.request_process;
  if (prefill !== undefined && requestProcess !== undefined && prefill > Math.max(0.5, requestProcess * 10)) {
    add('prefill-dominates', `Prefill forward dominates stage timing: prefill_forward~${f3(prefill)}s vs request_process~${f3(requestProcess)}s.`);
  }
  // Only counters over a window can show a collapse: the /v1/loads gauge is reset to 0 at every decode report.
  if (view.source !== 'lifetime' && view.cache_hit_rate !== null && lifetimeCacheHitRate !== null && lifetimeCacheHitRate >= 0.3 && view.cache_hit_rate < lifetimeCacheHitRate / 3) {
    add(
      'cache-hit-collapse',
      `Cache-hit collapse: cached/prompt tokens fell to ${f3(view.cache_hit_rate)} against a lifetime ${f3(lifetimeCacheHitRate)}. Prompts stopped sharing prefixes (new template, routing change) or the cache was flushed; prefill work rises.`,
    );
  }
  return out;
}

export function hasSignal(signals: readonly Signal[], id: SignalId): Signal | undefined {
  return signals.find((s) => s.id === id);
}
