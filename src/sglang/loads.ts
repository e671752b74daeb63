/**
 * `/v1/loads` comes in two envelope generations (early 2026 with `aggregate`/`dp_rank_count`, later
 * without), and old servers only have `/get_load` (a bare list). All normalise to LoadRow[].
 */
export interface LoadRow {
  dpRank: number | null;
  running: number | null;
  waiting: number | null;
  usedTokens: number | null;
  /** Used plus tokens of queued requests (`num_total_tokens`). */
  totalTokens: number | null;
  maxTotalTokens: number | null;
  tokenUsage: number | null;
  genThroughput: number | null;
  cacheHitRate: number | null;
  utilization: number | null;
  maxRunningRequests: number | null;
  queues: Record<string, number> | null;
  disaggregation: Record<string, unknown> | null;
  specAcceptLength: number | null;
}

export interface LoadsSnapshot {
  envelope: 'v1-aggregate' | 'v1' | 'get_load' | 'unknown';
  rows: LoadRow[];
  accelerator: string | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function normaliseLoads(body: unknown): LoadsSnapshot {
  if (Array.isArray(body)) {
    return { envelope: 'get_load', rows: body.filter(isObject).map(fromGetLoad), accelerator: null };
  }
  if (isObject(body) && Array.isArray(body.loads)) {
    return {
      envelope: 'aggregate' in body || 'dp_rank_count' in body ? 'v1-aggregate' : 'v1',
      rows: body.loads.filter(isObject).map(fromV1),
      accelerator: typeof body.accelerator === 'string' ? body.accelerator : null,
    };
  }
  return { envelope: 'unknown', rows: [], accelerator: null };
}

function fromV1(r: Record<string, unknown>): LoadRow {
  const spec = isObject(r.speculative) ? r.speculative : null;
  return {
    dpRank: num(r.dp_rank),
    running: num(r.num_running_reqs),
    waiting: num(r.num_waiting_reqs),
    usedTokens: num(r.num_used_tokens),
    totalTokens: num(r.num_total_tokens),
    maxTotalTokens: num(r.max_total_num_tokens),
    tokenUsage: num(r.token_usage),
    genThroughput: num(r.gen_throughput),
    cacheHitRate: num(r.cache_hit_rate),
    utilization: num(r.utilization),
    maxRunningRequests: num(r.max_running_requests),
    queues: isObject(r.queues) ? numericRecord(r.queues) : null,
    disaggregation: isObject(r.disaggregation) ? r.disaggregation : null,
    specAcceptLength: spec ? num(spec.accept_length) : null,
  };
}

/**
 * `/get_load`: `num_reqs` is running PLUS waiting and `num_tokens` is used PLUS pending (tokens of queued
 * requests). Today's shim (`entrypoints/http_server.py` `get_load`) adds `num_pending_tokens`; the 2025
 * scheduler (`scheduler_metrics_mixin.py` `get_load`) returned only the four fields.
 */
function fromGetLoad(r: Record<string, unknown>): LoadRow {
  if ('num_running_reqs' in r) return fromV1(r);
  const reqs = num(r.num_reqs);
  const waiting = num(r.num_waiting_reqs);
  const tokens = num(r.num_tokens);
  const pending = num(r.num_pending_tokens);
  return {
    dpRank: num(r.dp_rank),
    running: reqs !== null && waiting !== null ? Math.max(0, reqs - waiting) : null,
    waiting,
    usedTokens: tokens !== null && pending !== null ? Math.max(0, tokens - pending) : null,
    totalTokens: tokens,
    maxTotalTokens: null,
    tokenUsage: null,
    genThroughput: null,
    cacheHitRate: null,
    utilization: null,
    maxRunningRequests: null,
    queues: null,
    disaggregation: null,
    specAcceptLength: null,
  };
}

function numericRecord(o: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number') out[k] = v;
  return out;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function sumOf(rows: LoadRow[], pick: (r: LoadRow) => number | null): number | null {
  const values = rows.map(pick).filter((v): v is number => v !== null);
  return values.length ? values.reduce((a, b) => a + b, 0) : null;
}

export function maxOf(rows: LoadRow[], pick: (r: LoadRow) => number | null): number | null {
  const values = rows.map(pick).filter((v): v is number => v !== null);
  return values.length ? Math.max(...values) : null;
}
