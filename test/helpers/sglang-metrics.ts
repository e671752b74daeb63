/** Prometheus text shaped like SGLang 2026 `/metrics`, built from a few numbers. */
export interface MetricsShape {
  model?: string;
  requests: number;
  promptTokens: number;
  generationTokens: number;
  cachedTokens?: number;
  ttftSum: number;
  e2eSum: number;
  queueSum: number;
  /** stage → per tp_rank [sum, count] */
  stages?: Record<string, Array<[number, number]>>;
  running: number;
  waiting: number;
  tokenUsage: number;
}

export function sglangMetrics(s: MetricsShape): string {
  const model = s.model ?? 'Qwen/Qwen3-8B';
  const tok = `engine_type="unified",model_name="${model}"`;
  const sched = (rank: number) => `engine_type="unified",model_name="${model}",moe_ep_rank="0",pp_rank="0",tp_rank="${rank}"`;
  const lines = [
    '# HELP sglang:time_to_first_token_seconds Histogram of time to first token in seconds.',
    '# TYPE sglang:time_to_first_token_seconds histogram',
    `sglang:time_to_first_token_seconds_bucket{${tok},le="1.0"} 0.0`,
    `sglang:time_to_first_token_seconds_bucket{${tok},le="+Inf"} ${s.requests}.0`,
    `sglang:time_to_first_token_seconds_sum{${tok}} ${s.ttftSum}`,
    `sglang:time_to_first_token_seconds_count{${tok}} ${s.requests}.0`,
    '# TYPE sglang:e2e_request_latency_seconds histogram',
    `sglang:e2e_request_latency_seconds_sum{${tok}} ${s.e2eSum}`,
    `sglang:e2e_request_latency_seconds_count{${tok}} ${s.requests}.0`,
    '# TYPE sglang:queue_time_seconds histogram',
    `sglang:queue_time_seconds_sum{${sched(0)}} ${s.queueSum}`,
    `sglang:queue_time_seconds_count{${sched(0)}} ${s.requests}.0`,
    '# TYPE sglang:num_requests_total counter',
    `sglang:num_requests_total{${tok}} ${s.requests}.0`,
    `sglang:prompt_tokens_total{${tok}} ${s.promptTokens}.0`,
    `sglang:generation_tokens_total{${tok}} ${s.generationTokens}.0`,
    ...(s.cachedTokens !== undefined ? [`sglang:cached_tokens_total{cache_source="total",${tok}} ${s.cachedTokens}.0`] : []),
    '# TYPE sglang:num_running_reqs gauge',
    `sglang:num_running_reqs{${sched(0)}} ${s.running}.0`,
    `sglang:num_queue_reqs{${sched(0)}} ${s.waiting}.0`,
    `sglang:token_usage{${sched(0)}} ${s.tokenUsage}`,
  ];
  for (const [stage, ranks] of Object.entries(s.stages ?? {})) {
    ranks.forEach(([sum, count], rank) => {
      const labels = `engine_type="unified",model_name="${model}",moe_ep_rank="0",pp_rank="0",stage="${stage}",tp_rank="${rank}"`;
      lines.push(`sglang:per_stage_req_latency_seconds_sum{${labels}} ${sum}`, `sglang:per_stage_req_latency_seconds_count{${labels}} ${count}.0`);
    });
  }
  return `${lines.join('\n')}\n`;
}
