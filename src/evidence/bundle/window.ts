import type { CounterSnapshot, SumCount } from '../../sglang/metrics.js';

/** Which counters a latency figure was computed over. */
export type RateSource = 'lifetime' | 'capture-window' | 'bundle-pair';

/**
 * Latency and cache figures over one span. SGLang's histograms and counters run since the process
 * started, so lifetime averages dilute a recent spike; a window (two scrapes S seconds apart, or two
 * bundles of one server) shows what happened in those S seconds.
 */
export interface LatencyView {
  source: RateSource;
  /** Length of the window; null for lifetime figures. */
  seconds: number | null;
  /** Said in every signal that used it, e.g. "over the 30.0 s window of capture --window". */
  description: string;
  requests: number | null;
  avg_ttft_seconds: number | null;
  avg_e2e_seconds: number | null;
  avg_queue_time_seconds: number | null;
  stage_avg_seconds_max_tp_rank: Record<string, number>;
  /** cached / prompt tokens over the span (the counters, not the per-report gauge). */
  cache_hit_rate: number | null;
  requests_per_second: number | null;
  generation_tokens_per_second: number | null;
}

const ratio = (sc: SumCount | null): number | null => (sc && sc.count > 0 ? sc.sum / sc.count : null);

function stageMax(stages: Record<string, SumCount>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, sc] of Object.entries(stages)) {
    if (sc.count <= 0) continue;
    const stage = key.slice(0, key.indexOf('|'));
    out[stage] = Math.max(out[stage] ?? 0, sc.sum / sc.count);
  }
  return out;
}

export function lifetimeView(c: CounterSnapshot): LatencyView {
  return {
    source: 'lifetime',
    seconds: null,
    description: 'lifetime averages since the server started',
    requests: c.requests,
    avg_ttft_seconds: ratio(c.ttft),
    avg_e2e_seconds: ratio(c.e2e),
    avg_queue_time_seconds: ratio(c.queue),
    stage_avg_seconds_max_tp_rank: stageMax(c.stages),
    cache_hit_rate: c.promptTokens && c.cachedTokens !== null ? c.cachedTokens / c.promptTokens : null,
    requests_per_second: null,
    generation_tokens_per_second: null,
  };
}

export type WindowResult = { ok: true; view: LatencyView } | { ok: false; reason: string };

/**
 * Rates between two scrapes `seconds` apart. A counter that went down means the server restarted
 * in between: the window is refused rather than read as negative traffic.
 */
export function windowView(start: CounterSnapshot, end: CounterSnapshot, seconds: number, source: Exclude<RateSource, 'lifetime'>, description: string): WindowResult {
  if (!(seconds > 0)) return { ok: false, reason: `the two scrapes are not apart in time (${seconds} s)` };
  const d = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : b - a);
  const dsc = (a: SumCount | null, b: SumCount | null): SumCount | null => (a && b ? { sum: b.sum - a.sum, count: b.count - a.count } : null);
  const deltas = [d(start.requests, end.requests), d(start.promptTokens, end.promptTokens), d(start.generationTokens, end.generationTokens), dsc(start.ttft, end.ttft)?.count ?? null];
  if (deltas.some((v) => v !== null && v < 0)) return { ok: false, reason: 'a counter went down between the scrapes (the server restarted)' };
  if (deltas.every((v) => v === null)) return { ok: false, reason: 'neither scrape has SGLang counters (/metrics missing or --enable-metrics off)' };
  const stages: Record<string, SumCount> = {};
  for (const [key, b] of Object.entries(end.stages)) {
    const a = start.stages[key] ?? { sum: 0, count: 0 };
    stages[key] = { sum: b.sum - a.sum, count: b.count - a.count };
  }
  const prompt = d(start.promptTokens, end.promptTokens);
  const cached = d(start.cachedTokens, end.cachedTokens);
  const requests = d(start.requests, end.requests);
  const gen = d(start.generationTokens, end.generationTokens);
  return {
    ok: true,
    view: {
      source,
      seconds,
      description,
      requests,
      avg_ttft_seconds: ratio(dsc(start.ttft, end.ttft)),
      avg_e2e_seconds: ratio(dsc(start.e2e, end.e2e)),
      avg_queue_time_seconds: ratio(dsc(start.queue, end.queue)),
      stage_avg_seconds_max_tp_rank: stageMax(stages),
      cache_hit_rate: prompt && cached !== null ? cached / prompt : null,
      requests_per_second: requests === null ? null : requests / seconds,
      generation_tokens_per_second: gen === null ? null : gen / seconds,
    },
  };
}
