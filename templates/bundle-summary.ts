import type { BundleSummary } from '../src/evidence/bundle/summary.js';
import { terminalLine } from './sanitize.js';

const f3 = (v: number | null | undefined, digits = 3) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits));
/** Every value here came from the server (or its name): one line, control characters shown. */
const val = (v: unknown) => (v === null || v === undefined ? 'n/a' : terminalLine(String(v)));
/** A load figure SGLang did not measure (no --enable-metrics, or an old /get_load without it) is said so, never shown as 0. */
const measured = (v: number | null, digits?: number) => (v === null ? 'not measured' : digits === undefined ? String(v) : f3(v, digits));

/**
 * SUMMARY.txt and the terminal view of a bundle. Values the server sent go through the
 * sanitizer, so an error body with ANSI escapes or a newline cannot paint or forge a line. Pure.
 */
export function renderBundleSummary(s: BundleSummary): string {
  const endpointLines = Object.entries(s.endpoints).map(([file, e]) =>
    e.state === 'ok' ? `${val(file)}: ok` : `${val(file)}: failed status=${e.status ?? -1} outcome=${val(e.state)}${e.error ? ` error=${shortLine(e.error)}` : ''}`,
  );
  const h = s.health;
  const m = s.metrics;
  const load = s.point_in_time_load;
  const stages = Object.entries(m.stage_avg_seconds_max_tp_rank).sort(([a], [b]) => a.localeCompare(b));
  const lines = [
    `Bundle: ${val(s.bundle_dir)}`,
    `Base URL: ${val(s.base_url)}${s.server ? ` (${val(s.server)})` : ''}`,
    `Collected At: ${val(s.collected_at)}`,
    '',
    ...endpointLines,
    '',
    `Health: /health=${h.health_ok ? 'ok' : val(h.health_state)} /health_generate=${h.health_generate_ok ? 'ok' : val(h.health_generate_state)}`,
    `Model: ${val(s.model.model_path)} weight_version=${val(s.model.weight_version)} type=${val(s.model.model_type)} sglang=${val(s.model.version)}`,
    `Topology: tp=${val(s.topology.tp_size)} dp=${val(s.topology.dp_size)} pp=${val(s.topology.pp_size)} ep=${val(s.topology.ep_size)} disagg=${val(s.topology.disaggregation_mode)} metrics=${val(s.topology.enable_metrics)}`,
    `Capacity: max_total_tokens=${val(s.capacity.max_total_num_tokens)} max_running_reqs=${val(s.capacity.effective_max_running_requests_per_dp)} max_req_input_len=${val(s.capacity.max_req_input_len)}`,
    `Point-in-time load: running=${measured(load.running_reqs)} waiting=${measured(load.waiting_reqs)} token_usage=${measured(load.token_usage, 3)} throughput=${measured(load.throughput, 1)} cache_hit_rate=${measured(load.cache_hit_rate, 3)}${load.cache_hit_rate !== null ? ' (last prefill report; SGLang resets it to 0 at each decode report)' : ''}`,
    `Metrics: requests=${f3(m.request_count, 0)} prompt_tokens=${f3(m.prompt_tokens_total, 0)} generation_tokens=${f3(m.generation_tokens_total, 0)} avg_ttft_s=${f3(m.avg_ttft_seconds)} avg_e2e_s=${f3(m.avg_e2e_seconds)} avg_queue_s=${f3(m.avg_queue_time_seconds)}`,
  ];
  if (m.gauges_per_tp_rank) lines.push('Gauges: exported by every TP rank (--enable-metrics-for-all-schedulers); read once per DP group, not summed.');
  const w = s.window;
  if (w) lines.push(`Window: ${val(w.description)}: requests=${f3(w.requests, 0)} avg_ttft_s=${f3(w.avg_ttft_seconds)} avg_queue_s=${f3(w.avg_queue_time_seconds)} cached/prompt=${f3(w.cache_hit_rate)} gen_tokens_per_s=${f3(w.generation_tokens_per_second, 1)}`);
  lines.push(`Latency signals use: ${val(s.latency.description)}`);
  if (stages.length) lines.push(`Stage averages (max across TP ranks): ${stages.map(([k, v]) => `${val(k)}=${f3(v)}s`).join(', ')}`);
  lines.push('', 'What stands out:');
  if (s.signals.length) lines.push(...s.signals.map((sig) => `- [${val(sig.level)}] ${val(sig.text)}`));
  else lines.push('- No strong signal from this bundle.');
  lines.push('', 'This bundle is read-only: it started no profiling and changed no trace level. Secrets were redacted before writing.');
  return `${lines.join('\n')}\n`;
}

function shortLine(text: string): string {
  const flat = terminalLine(text.replace(/[ \t\r\n]+/g, ' ').trim());
  return flat.length > 200 ? `${flat.slice(0, 197)}...` : flat;
}
