import type { Evidence } from '../../evidence/types.js';
import type { EvidenceRef } from '../../contracts/report.js';
import { PRIORITY, type Rule, type Verdict } from '../rule.js';
import { computeSlowCommands, queuePressureCommands } from '../rule-commands.js';
import { bundleFile, productionBundle, signalIn, type BundleItem } from './bundle-helpers.js';

const f3 = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(3));

/**
 * Compute-side slowness: TTFT high while queue time is low, and/or one stage dominating.
 * Routes to the profiler, but only through a replay (profile the replay target, never production).
 */
export const computeSlowRule: Rule = {
  id: 'slow-compute',
  evaluate(evidence, ctx) {
    const bundle = productionBundle(evidence);
    if (!bundle) return null;
    const ttft = signalIn(bundle, 'ttft-high-queue-low');
    const prefill = signalIn(bundle, 'prefill-dominates');
    if (!ttft && !prefill) return null;
    if (queuePressure(bundle)) return null;
    const m = bundle.data.metrics;
    const stages = m.stage_avg_seconds_max_tp_rank;
    const dominant = Object.entries(stages).sort((a, b) => b[1] - a[1])[0];
    const dominantStage = dominant?.[0] ?? 'prefill_forward';
    const evidenceRefs: EvidenceRef[] = [];
    if (ttft) evidenceRefs.push({ file: bundleFile(bundle, ttft.file), fact: ttft.text });
    if (prefill) evidenceRefs.push({ file: bundleFile(bundle, prefill.file), fact: prefill.text });
    const load = bundle.data.point_in_time_load;
    evidenceRefs.push({
      file: bundleFile(bundle, 'loads_all.json'),
      fact: `running=${load.running_reqs ?? 'n/a'} waiting=${load.waiting_reqs ?? 'n/a'} token_usage=${f3(load.token_usage)} cache_hit_rate=${f3(load.cache_hit_rate)}`,
    });
    const replayed = evidence.has('replay' as never);
    return {
      rule: this.id,
      priority: PRIORITY.slow + 5,
      problemClass: 'slow',
      strongestSignal: ttft?.text ?? prefill!.text,
      bestGuess: `Compute-side slowness in ${dominantStage} (~${f3(dominant?.[1])}s per request at the slowest TP rank), not queue pressure: avg TTFT ${f3(m.avg_ttft_seconds)}s vs avg queue ${f3(m.avg_queue_time_seconds)}s.`,
      ruledOut: [
        `queue pressure (avg queue ${f3(m.avg_queue_time_seconds)}s, waiting=${load.waiting_reqs ?? 'n/a'})`,
        `KV-capacity pressure (token_usage=${f3(load.token_usage)})`,
        ...(load.cache_hit_rate !== null && load.cache_hit_rate >= 0.5 ? [`cache-hit collapse (cache_hit_rate=${f3(load.cache_hit_rate)})`] : []),
        ...(bundle.data.health.health_ok && bundle.data.health.health_generate_ok ? ['server down or hung (/health and /health_generate ok)'] : []),
      ],
      nextStep: {
        skill: 'llm-torch-profiler-analysis',
        why: replayed
          ? 'The replay reproduced the slowness with the queue empty, so the time is spent in compute: profile the replay target.'
          : 'The bundle points at compute, not queueing. A bundle cannot say which kernel: save the slow request, replay it on a clean target, and profile that replay (never profile production).',
        commands: computeSlowCommands(ctx, replayed),
      },
      productionRisk: 'Degraded latency, not an outage: requests complete but slowly. Risk grows with prompt length if prefill is the bottleneck.',
      facts: { dominantStage, avgTtftSeconds: m.avg_ttft_seconds, avgQueueSeconds: m.avg_queue_time_seconds },
      evidence: evidenceRefs,
    } satisfies Verdict;
  },
};

/** Queueing, KV pressure, retractions: slow, but the profiler would find nothing. */
export const queuePressureRule: Rule = {
  id: 'slow-queue',
  evaluate(evidence, ctx) {
    const bundle = productionBundle(evidence);
    if (!bundle || !queuePressure(bundle)) return null;
    const signals = bundle.data.signals.filter((s) => ['queue-buildup', 'queue-time-dominates', 'kv-pressure', 'retractions'].includes(s.id));
    const load = bundle.data.point_in_time_load;
    const m = bundle.data.metrics;
    const cap = bundle.data.capacity;
    return {
      rule: this.id,
      priority: PRIORITY.slow,
      problemClass: 'slow',
      strongestSignal: signals[0]!.text,
      bestGuess: `Capacity or admission pressure: ${signals.map((s) => s.id).join(', ')}. Requests wait for KV space or a running slot, so compute profiling would not explain the latency.`,
      ruledOut: ['compute-bound kernels as the primary cause (queueing explains the latency first)'],
      nextStep: {
        skill: 'collect-more',
        why: 'Queue pressure is a capacity question, not a kernel question: confirm the arrival rate and request shapes against capacity before touching the profiler.',
        commands: queuePressureCommands(ctx, { maxTotalTokens: cap.max_total_num_tokens, maxRunningRequests: cap.effective_max_running_requests_per_dp }),
      },
      productionRisk: `Latency grows with load; waiting=${load.waiting_reqs ?? 'n/a'}, token_usage=${f3(load.token_usage)}. Sustained pressure leads to timeouts at the client and retraction storms.`,
      facts: { waitingReqs: load.waiting_reqs, tokenUsage: load.token_usage, avgQueueSeconds: m.avg_queue_time_seconds },
      evidence: signals.map((s) => ({ file: bundleFile(bundle, s.file), fact: s.text })),
    };
  },
};

function queuePressure(bundle: BundleItem): boolean {
  return ['queue-time-dominates', 'kv-pressure', 'retractions'].some((id) => signalIn(bundle, id as never)) ||
    Boolean(signalIn(bundle, 'queue-buildup') && (bundle.data.metrics.avg_queue_time_seconds ?? 0) >= 0.2);
}

export type { Evidence };
