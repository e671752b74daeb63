import path from 'node:path';
import type { EvidenceItem } from '../../evidence/types.js';
import type { TraceSummary } from '../../evidence/profile/index.js';
import type { EvidenceRef, Facts } from '../../contracts/report.js';
import { PRIORITY, type RouteContext, type Rule } from '../rule.js';
import { incidentBundle, signalIn } from './bundle-helpers.js';
import { profileAnalysisCommands } from '../rule-commands.js';

/**
 * A torch.profiler trace of a compute-side slow incident names where the GPU time went: route to
 * SGLang's llm-torch-profiler-analysis skill with the trace itself as its input.
 *
 * Compute-side means: the replay reproduced slowness (`reproduced: 'slow'`), or the bundle shows
 * compute signals, or nothing else is known but the trace. Queue pressure is never a profiling
 * question, so a bundle that shows it and no compute signal leaves the verdict to the queue rule.
 *
 * The skill's entry point and its `--input` (trace file or profile directory) are from SGLang's
 * `.claude/skills/llm-torch-profiler-analysis/SKILL.md` and `scripts/analyze_llm_torch_profile.py`.
 */
export const SKILL_SCRIPT = '.claude/skills/llm-torch-profiler-analysis/scripts/analyze_llm_torch_profile.py';

const QUEUE_SIGNALS = ['queue-time-dominates', 'kv-pressure', 'retractions'] as const;
const COMPUTE_SIGNALS = ['ttft-high-queue-low', 'prefill-dominates'] as const;
/** Commands stay readable: past this many traces, point at their folders. */
const MAX_TRACE_COMMANDS = 4;

const pct = (x: number): string => `${(x * 100).toFixed(x >= 0.1 ? 0 : 1)}%`;
const ms = (us: number): string => `${(us / 1000).toFixed(1)} ms`;

export const profileTraceRule: Rule = {
  id: 'profile-trace',
  evaluate(evidence, ctx) {
    const traces = evidence.of('torch-trace').filter((t) => t.data.kernelCount > 0);
    if (!traces.length) return null;
    const bundle = incidentBundle(evidence);
    const computeSignal = COMPUTE_SIGNALS.map((id) => signalIn(bundle, id)).find(Boolean);
    const queueSignal = QUEUE_SIGNALS.map((id) => signalIn(bundle, id)).find(Boolean);
    const reproduced = evidence.of('replay')[0]?.data.reproduced;
    if (queueSignal && !computeSignal && reproduced !== 'slow') return null;

    const main = [...traces].sort((a, b) => b.data.kernelTimeUs - a.data.kernelTimeUs)[0]!;
    const t = main.data;
    const top = t.topKernels[0]!;
    const busiest = [...t.devices].sort((a, b) => b.busyShare - a.busyShare)[0];
    const range = t.ranges[0];
    const facts: Facts = {
      dominantKernel: top.name,
      dominantKernelShare: round(top.share),
      kernelTimeMs: round(t.kernelTimeUs / 1000),
      traceWindowMs: round(t.windowUs / 1000),
      profileTraces: traces.length,
    };
    if (busiest) facts.gpuBusyShare = round(busiest.busyShare);
    if (range) facts.dominantRange = range.name;
    const stage = bundle ? dominantBundleStage(bundle.data.metrics.stage_avg_seconds_max_tp_rank) : undefined;
    if (stage) facts.dominantStage = stage;
    if (reproduced !== undefined) facts.reproduced = reproduced;

    const evidenceRefs: EvidenceRef[] = traces.slice(0, MAX_TRACE_COMMANDS).map((item) => ({ file: item.file, fact: traceFact(item.data) }));
    if (computeSignal && bundle) evidenceRefs.push({ file: `${bundle.file}/${computeSignal.file}`, fact: computeSignal.text });
    const idle = busiest && busiest.busyShare < 0.5;
    return {
      rule: this.id,
      // Above the bundle-only compute rule (slow + 5): the trace says which kernel.
      priority: PRIORITY.slow + 8,
      problemClass: 'slow',
      strongestSignal: `torch profiler trace: ${top.name} takes ${pct(top.share)} of ${ms(t.kernelTimeUs)} kernel time${busiest ? `; GPU ${busiest.device} busy ${pct(busiest.busyShare)} of the ${ms(t.windowUs)} window` : ''}`,
      bestGuess: idle
        ? `The GPU sits idle for most of the profiled window (busy ${pct(busiest!.busyShare)}): the time goes to the host side (launch overhead, scheduling, synchronisation) more than to ${top.name}.`
        : `GPU time is dominated by ${top.name} (${pct(top.share)} of kernel time, ${top.count} launches)${range ? `, inside the ${range.name} range` : ''}.`,
      ruledOut: [
        // Only a bundle can rule queueing out; a trace alone says nothing about the queue.
        ...(bundle && !queueSignal ? ['queue pressure (the bundle shows no queue, KV or retraction signal)'] : []),
        ...(reproduced === 'slow' ? ['a one-off: the replay on a clean target was slow too'] : []),
      ],
      nextStep: {
        skill: 'llm-torch-profiler-analysis',
        why: 'The trace says where GPU time goes; the skill turns it into the kernel, overlap-opportunity and fuse-pattern tables that point at the fix.',
        commands: analysisCommands(traces, ctx),
      },
      productionRisk: 'Degraded latency, not an outage: requests complete but slowly.',
      facts,
      evidence: evidenceRefs,
    };
  },
};

function traceFact(t: TraceSummary): string {
  const top = t.topKernels[0];
  const devices = t.devices.map((d) => `GPU ${d.device} busy ${pct(d.busyShare)}`).join(', ');
  return `${t.kernelCount} kernels, ${ms(t.kernelTimeUs)}${top ? `; top ${top.name} ${pct(top.share)}` : ''}${devices ? `; ${devices}` : ''}${t.complete ? '' : '; trace cut off'}`;
}

/**
 * One skill run per trace; several traces in one folder are one run on the folder: SGLang writes one
 * `<profile_id>-TP-<rank>[-DP-…][-PP-…][-EP-…].trace.json.gz` per rank into the same output_dir
 * (python/sglang/srt/managers/scheduler_components/profiler_manager.py).
 */
function analysisCommands(traces: Array<EvidenceItem<'torch-trace'>>, ctx: RouteContext): string[] {
  const abs = traces.map((t) => path.resolve(ctx.root, t.file));
  const folders = [...new Set(abs.map((f) => path.dirname(f)))];
  const inputs = abs.length > 1 && (folders.length === 1 || abs.length > MAX_TRACE_COMMANDS) ? folders.slice(0, MAX_TRACE_COMMANDS) : abs.slice(0, MAX_TRACE_COMMANDS);
  return profileAnalysisCommands(SKILL_SCRIPT, inputs);
}

function dominantBundleStage(stages: Record<string, number> | undefined): string | undefined {
  const top = Object.entries(stages ?? {}).sort((a, b) => b[1] - a[1])[0];
  return top?.[0];
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
