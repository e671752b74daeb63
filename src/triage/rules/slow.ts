import type { Evidence } from '../../evidence/types.js';
import type { LatencyView } from '../../evidence/bundle/window.js';
import type { EvidenceRef } from '../../contracts/report.js';
import { PRIORITY, type Rule, type Verdict } from '../rule.js';
import { computeSlowCommands, queuePressureCommands } from '../rule-commands.js';
import type { Signal, SignalId } from '../../evidence/bundle/signals.js';
import { bundleFile, bundleSignals, productionBundle } from './bundle-helpers.js';

// A figure SGLang did not measure is said so, never shown as a number.
const f3 = (v: number | null | undefined) => (v === null || v === undefined ? 'not measured' : v.toFixed(3));
const secs = (v: number | null | undefined) => (v === null || v === undefined ? 'not measured' : `${v.toFixed(3)}s`);

/**
 * Compute-side slowness: TTFT high while queue time is low, and/or one stage dominating.
 * Routes to the profiler, but only through a replay (profile the replay target, never production).
 */
export const computeSlowRule: Rule = {
  id: 'slow-compute',
  evaluate(evidence, ctx) {
    const bundle = productionBundle(evidence);
    if (!bundle) return null;
    const { signals, latency: m } = bundleSignals(evidence, bundle);
    const ttft = find(signals, 'ttft-high-queue-low');
    const prefill = find(signals, 'prefill-dominates');
    if (!ttft && !prefill) return null;
    if (queuePressure(signals, m.avg_queue_time_seconds)) return null;
    const stages = m.stage_avg_seconds_max_tp_rank;
    const dominant = Object.entries(stages).sort((a, b) => b[1] - a[1])[0];
    const dominantStage = dominant?.[0] ?? 'prefill_forward';
    const evidenceRefs: EvidenceRef[] = [];
    if (ttft) evidenceRefs.push({ file: bundleFile(bundle, ttft.file), fact: ttft.text });
    if (prefill) evidenceRefs.push({ file: bundleFile(bundle, prefill.file), fact: prefill.text });
    const load = bundle.data.point_in_time_load;
    evidenceRefs.push({
      file: bundleFile(bundle, 'loads_all.json'),
      fact: `running=${load.running_reqs ?? 'not measured'} waiting=${load.waiting_reqs ?? 'not measured'} token_usage=${f3(load.token_usage)}`,
    });
    const replayed = evidence.has('replay' as never);
    return {
      rule: this.id,
      priority: PRIORITY.slow + 5,
      problemClass: 'slow',
      strongestSignal: ttft?.text ?? prefill!.text,
      bestGuess: `Compute-side slowness in ${dominantStage} (~${secs(dominant?.[1])} per request at the slowest TP rank), not queue pressure: avg TTFT ${secs(m.avg_ttft_seconds)} vs avg queue ${secs(m.avg_queue_time_seconds)}, ${m.description}.`,
      ruledOut: [
        `queue pressure (avg queue ${secs(m.avg_queue_time_seconds)}, waiting=${load.waiting_reqs ?? 'not measured'})`,
        `KV-capacity pressure (token_usage=${f3(load.token_usage)})`,
        ...(m.cache_hit_rate !== null && m.cache_hit_rate >= 0.5 ? [`cache-hit collapse (cached/prompt tokens ${f3(m.cache_hit_rate)}, ${m.description})`] : []),
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
      facts: { dominantStage, avgTtftSeconds: m.avg_ttft_seconds, avgQueueSeconds: m.avg_queue_time_seconds, rateWindow: rateWindowFact(m) },
      evidence: evidenceRefs,
    } satisfies Verdict;
  },
};

/** Queueing, KV pressure, retractions: slow, but the profiler would find nothing. */
export const queuePressureRule: Rule = {
  id: 'slow-queue',
  evaluate(evidence, ctx) {
    const bundle = productionBundle(evidence);
    if (!bundle) return null;
    const { signals: all, latency: m } = bundleSignals(evidence, bundle);
    if (!queuePressure(all, m.avg_queue_time_seconds)) return null;
    const signals = all.filter((s) => QUEUE_SIGNALS.includes(s.id));
    const load = bundle.data.point_in_time_load;
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
      productionRisk: `Latency grows with load; waiting=${load.waiting_reqs ?? 'not measured'}, token_usage=${f3(load.token_usage)}. Sustained pressure leads to timeouts at the client and retraction storms.`,
      facts: { waitingReqs: load.waiting_reqs, tokenUsage: load.token_usage, avgQueueSeconds: m.avg_queue_time_seconds, rateWindow: rateWindowFact(m) },
      evidence: signals.map((s) => ({ file: bundleFile(bundle, s.file), fact: s.text })),
    };
  },
};

const QUEUE_SIGNALS: readonly SignalId[] = ['queue-buildup', 'queue-time-dominates', 'kv-pressure', 'retractions'];

const find = (signals: readonly Signal[], id: SignalId) => signals.find((s) => s.id === id);

function queuePressure(signals: readonly Signal[], avgQueueSeconds: number | null): boolean {
  return (['queue-time-dominates', 'kv-pressure', 'retractions'] as const).some((id) => find(signals, id)) ||
    Boolean(find(signals, 'queue-buildup') && (avgQueueSeconds ?? 0) >= 0.2);
}

/** Which span the verdict's latency figures cover, said in facts so a reader knows what was averaged. */
function rateWindowFact(view: LatencyView): { source: LatencyView['source']; seconds: number | null; description: string } {
  return { source: view.source, seconds: view.seconds, description: view.description };
}

export type { Evidence };
