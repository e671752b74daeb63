import { describe, expect, it } from 'vitest';
import { histogramAverage, parsePrometheus, stageAverages } from '../../src/sglang/metrics.js';
import { normaliseLoads } from '../../src/sglang/loads.js';

describe('Prometheus parsing', () => {
  it('reads exponent values, any label order, escaped quotes, and skips comments', () => {
    const m = parsePrometheus(
      [
        '# HELP x y',
        'sglang:time_to_first_token_seconds_sum{model_name="a",engine_type="unified"} 8.128902e+01',
        'sglang:time_to_first_token_seconds_count{engine_type="unified",model_name="a"} 10',
        'weird{label="a \\"quoted\\" } brace"} 3',
        'garbage line without value',
        'inf_metric +Inf',
      ].join('\n'),
    );
    expect(histogramAverage(m, 'sglang:time_to_first_token_seconds')).toBeCloseTo(8.128902, 5);
    expect(m.get('weird')![0]!.labels.label).toBe('a "quoted" } brace');
    expect(m.get('inf_metric')![0]!.value).toBe(Infinity);
  });

  it('computes stage averages per (stage, tp_rank) and keeps the max across ranks', () => {
    const line = (stage: string, rank: number, kind: string, v: number) => `sglang:per_stage_req_latency_seconds_${kind}{stage="${stage}",tp_rank="${rank}"} ${v}`;
    const m = parsePrometheus([line('prefill_forward', 0, 'sum', 4), line('prefill_forward', 0, 'count', 2), line('prefill_forward', 1, 'sum', 9), line('prefill_forward', 1, 'count', 3)].join('\n'));
    expect(stageAverages(m).prefill_forward).toBe(3);
  });
});

describe('/v1/loads envelopes', () => {
  it('reads the early envelope (aggregate), the later one (no aggregate), and /get_load', () => {
    const row = { dp_rank: 0, num_running_reqs: 3, num_waiting_reqs: 2, token_usage: 0.5 };
    expect(normaliseLoads({ loads: [row], aggregate: {}, dp_rank_count: 1 })).toMatchObject({ envelope: 'v1-aggregate', rows: [{ running: 3, waiting: 2 }] });
    expect(normaliseLoads({ loads: [row], accelerator: 'NVIDIA H200' })).toMatchObject({ envelope: 'v1', accelerator: 'NVIDIA H200' });
    // /get_load's num_reqs is running + waiting (http_server.py get_load shim; 2025 scheduler_metrics_mixin.get_load).
    expect(normaliseLoads([{ dp_rank: 0, num_reqs: 4, num_waiting_reqs: 1 }])).toMatchObject({ envelope: 'get_load', rows: [{ running: 3, waiting: 1 }] });
    expect(normaliseLoads('nonsense')).toMatchObject({ envelope: 'unknown', rows: [] });
  });
});
