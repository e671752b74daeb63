/**
 * Prometheus text exposition parsing, for SGLang's `/metrics` (names with the `sglang:` prefix).
 * Single pass, no regex backtracking on hostile input: lines are split by hand.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export type MetricIndex = Map<string, Sample[]>;

export function parsePrometheus(text: string): MetricIndex {
  const index: MetricIndex = new Map();
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (!line || line.startsWith('#')) continue;
    const sample = parseLine(line);
    if (!sample) continue;
    const list = index.get(sample.name);
    if (list) list.push(sample);
    else index.set(sample.name, [sample]);
  }
  return index;
}

function parseLine(line: string): Sample | null {
  const brace = line.indexOf('{');
  let name: string;
  let labels: Record<string, string> = {};
  let rest: string;
  if (brace !== -1 && brace < (line.indexOf(' ') === -1 ? Infinity : line.indexOf(' '))) {
    name = line.slice(0, brace);
    const close = findLabelEnd(line, brace + 1);
    if (close === -1) return null;
    labels = parseLabels(line.slice(brace + 1, close));
    rest = line.slice(close + 1).trim();
  } else {
    const space = line.search(/\s/);
    if (space === -1) return null;
    name = line.slice(0, space);
    rest = line.slice(space + 1).trim();
  }
  const valueText = rest.split(/\s+/)[0] ?? '';
  const value = parseValue(valueText);
  if (value === null) return null;
  return { name, labels, value };
}

function findLabelEnd(line: string, from: number): number {
  let inQuotes = false;
  for (let i = from; i < line.length; i++) {
    const c = line[i];
    if (inQuotes) {
      if (c === '\\') i++;
      else if (c === '"') inQuotes = false;
    } else if (c === '"') inQuotes = true;
    else if (c === '}') return i;
  }
  return -1;
}

function parseLabels(raw: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < raw.length) {
    const eq = raw.indexOf('=', i);
    if (eq === -1) break;
    const key = raw.slice(i, eq).trim().replace(/^,/, '').trim();
    if (raw[eq + 1] !== '"') break;
    let j = eq + 2;
    let value = '';
    while (j < raw.length && raw[j] !== '"') {
      if (raw[j] === '\\' && j + 1 < raw.length) {
        const next = raw[j + 1];
        value += next === 'n' ? '\n' : next;
        j += 2;
      } else {
        value += raw[j];
        j++;
      }
    }
    labels[key] = value;
    i = j + 1;
    while (i < raw.length && (raw[i] === ',' || raw[i] === ' ')) i++;
  }
  return labels;
}

function parseValue(text: string): number | null {
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  const n = Number(text);
  return text !== '' && Number.isFinite(n) ? n : null;
}

export function metricSum(index: MetricIndex, name: string): number | null {
  const samples = index.get(name);
  if (!samples?.length) return null;
  return samples.reduce((acc, s) => acc + s.value, 0);
}

/** Lifetime average of a histogram: sum of `_sum` over sum of `_count`, across all label sets. */
export function histogramAverage(index: MetricIndex, base: string): number | null {
  const sum = metricSum(index, `${base}_sum`);
  const count = metricSum(index, `${base}_count`);
  if (sum === null || count === null || count === 0) return null;
  return sum / count;
}

/**
 * Per-stage averages: `_sum/_count` per (stage, tp_rank), then the max across TP ranks, so one slow
 * rank is not averaged away. Samples without tp_rank (tokenizer-side stages) form their own group.
 */
export function stageAverages(index: MetricIndex, base = 'sglang:per_stage_req_latency_seconds'): Record<string, number> {
  const sums = new Map<string, number>();
  const counts = new Map<string, number>();
  const add = (map: Map<string, number>, s: Sample) => {
    const key = `${s.labels.stage ?? ''}|${s.labels.tp_rank ?? ''}`;
    map.set(key, (map.get(key) ?? 0) + s.value);
  };
  for (const s of index.get(`${base}_sum`) ?? []) add(sums, s);
  for (const s of index.get(`${base}_count`) ?? []) add(counts, s);
  const result: Record<string, number> = {};
  for (const [key, sum] of sums) {
    const count = counts.get(key);
    if (!count) continue;
    const stage = key.slice(0, key.indexOf('|'));
    const avg = sum / count;
    result[stage] = Math.max(result[stage] ?? 0, avg);
  }
  return result;
}

export function gaugeValues(index: MetricIndex, name: string): number[] {
  return (index.get(name) ?? []).map((s) => s.value).filter((v) => Number.isFinite(v));
}

/**
 * A scheduler gauge read once per DP group. SGLang labels scheduler gauges with tp_rank, pp_rank,
 * moe_ep_rank and (when set) dp_rank (`observability/metrics_collector.py`,
 * `SchedulerMetricsCollectorContext.init_new`). Only attn-TP rank 0 exports them, unless
 * `--enable-metrics-for-all-schedulers`, when every TP rank of a DP group exports the same value:
 * summing those would double running requests and throughput. So: one value per dp_rank group
 * (the max of its ranks), then `combine` across groups.
 */
export function gaugeAcrossRanks(index: MetricIndex, name: string, combine: 'sum' | 'max'): number | null {
  const groups = new Map<string, number>();
  for (const s of index.get(name) ?? []) {
    if (!Number.isFinite(s.value)) continue;
    const key = s.labels.dp_rank ?? '';
    groups.set(key, Math.max(groups.get(key) ?? -Infinity, s.value));
  }
  if (!groups.size) return null;
  const values = [...groups.values()];
  return combine === 'sum' ? values.reduce((a, b) => a + b, 0) : Math.max(...values);
}

/** True when one gauge is exported by several TP ranks of the same DP group (--enable-metrics-for-all-schedulers). */
export function duplicatedAcrossRanks(index: MetricIndex, name = 'sglang:num_running_reqs'): boolean {
  const seen = new Set<string>();
  for (const s of index.get(name) ?? []) {
    const key = s.labels.dp_rank ?? '';
    if (seen.has(key)) return true;
    seen.add(key);
  }
  return false;
}

export interface SumCount {
  sum: number;
  count: number;
}

/**
 * The cumulative counters of one scrape: what rates over a window are computed from. Histograms are
 * summed across label sets except per-stage latency, kept per (stage, tp_rank) so the window can take
 * the slowest rank like `stageAverages` does.
 */
export interface CounterSnapshot {
  requests: number | null;
  promptTokens: number | null;
  generationTokens: number | null;
  cachedTokens: number | null;
  abortedRequests: number | null;
  ttft: SumCount | null;
  e2e: SumCount | null;
  queue: SumCount | null;
  /** `${stage}|${tp_rank}` → sum/count of sglang:per_stage_req_latency_seconds. */
  stages: Record<string, SumCount>;
}

export function counterSnapshot(index: MetricIndex): CounterSnapshot {
  const sc = (base: string): SumCount | null => {
    const sum = metricSum(index, `${base}_sum`);
    const count = metricSum(index, `${base}_count`);
    return sum === null || count === null ? null : { sum, count };
  };
  const stages: Record<string, SumCount> = {};
  const base = 'sglang:per_stage_req_latency_seconds';
  for (const [suffix, field] of [['_sum', 'sum'], ['_count', 'count']] as const) {
    for (const s of index.get(`${base}${suffix}`) ?? []) {
      const key = `${s.labels.stage ?? ''}|${s.labels.tp_rank ?? ''}`;
      const entry = (stages[key] ??= { sum: 0, count: 0 });
      entry[field] += s.value;
    }
  }
  return {
    requests: metricSum(index, 'sglang:num_requests_total'),
    promptTokens: metricSum(index, 'sglang:prompt_tokens_total'),
    generationTokens: metricSum(index, 'sglang:generation_tokens_total'),
    cachedTokens: cachedTokensTotal(index),
    abortedRequests: metricSum(index, 'sglang:num_aborted_requests_total'),
    ttft: sc('sglang:time_to_first_token_seconds'),
    e2e: sc('sglang:e2e_request_latency_seconds'),
    queue: sc('sglang:queue_time_seconds'),
    stages,
  };
}

/** cached_tokens_total has a cache_source label in 2026 (device/host/storage/total): avoid double counting. */
export function cachedTokensTotal(index: MetricIndex): number | null {
  const samples = index.get('sglang:cached_tokens_total');
  if (!samples?.length) return null;
  const total = samples.filter((s) => s.labels.cache_source === 'total');
  const use = total.length ? total : samples;
  return use.reduce((a, s) => a + s.value, 0);
}
