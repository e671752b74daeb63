import type { EvidenceRef, Facts } from '../../contracts/report.js';
import { PRIORITY, type Rule } from '../rule.js';
import { batchFact, describeBatch, hasReplayEvidence, lastPrefill } from './gpu-evidence/common.js';
import { oomCommands, type CapacityKnob } from './gpu-evidence/commands.js';

/**
 * GPU out of memory → crash, with the capacity knobs to turn. Never a hang: a stall after an OOM is
 * its consequence (the hang rules step back when they see one).
 */
export const oomRule: Rule = {
  id: 'gpu-oom',
  evaluate(evidence, ctx) {
    const logs = evidence.of('server-log');
    let first: { file: string; line: number; text: string; startup: boolean; tried?: string; gpu?: number; rank?: string } | null = null;
    let duringGraphCapture = false;
    for (const item of logs) {
      const o = item.data.oom[0];
      if (o && !first) {
        first = { file: item.file, line: o.line, text: o.text, startup: o.startup };
        if (o.triedToAllocate) first.tried = o.triedToAllocate;
        if (o.gpu !== undefined) first.gpu = o.gpu;
        if (o.rank) first.rank = o.rank.label;
      }
      const tb = item.data.tracebacks.find((t) => t.cls === 'oom');
      if (tb) {
        if (first && !first.rank && tb.rank) first.rank = tb.rank.label;
        duringGraphCapture ||= tb.frames.some((f) => /capture|cuda_graph|graph_runner/i.test(`${f.function} ${f.file}`));
        if (!first) first = { file: item.file, line: tb.endLine, text: `${tb.exceptionType}: ${tb.message.split('\n')[0]}`, startup: false };
      }
    }
    if (!first) return null;

    const refs: EvidenceRef[] = [{ file: first.file, fact: `out of memory (line ${first.line})${first.rank ? ` [${first.rank}]` : ''}: ${first.text}` }];
    const trigger = lastPrefill(logs, { file: first.file, line: first.line });
    if (trigger) refs.push({ file: trigger.file, fact: `last batch before the OOM: ${describeBatch(trigger.batch)}` });
    for (const item of evidence.of('nvidia-smi')) {
      for (const s of item.data.snapshots) {
        const full = s.gpus.filter((g) => g.memTotalMiB && g.memUsedMiB !== undefined && g.memUsedMiB / g.memTotalMiB >= 0.95);
        if (full.length) refs.push({ file: item.file, fact: `GPU memory nearly full: ${full.map((g) => `GPU${g.index} ${g.memUsedMiB}/${g.memTotalMiB} MiB`).join(', ')}` });
      }
    }

    // Flags as server_args.py spells them today (--cuda-graph-max-bs is a deprecated alias of -decode).
    const k = (flag: CapacityKnob['flag'], hint: string): CapacityKnob => ({ flag, hint });
    const knobs: CapacityKnob[] = first.startup
      ? [k('--mem-fraction-static', '<current + 0.05>'), k('--max-total-tokens', '<smaller>'), k('--cuda-graph-max-bs-decode', '<smaller>')]
      : duringGraphCapture
        ? [k('--cuda-graph-max-bs-decode', '<half of current>'), k('--cuda-graph-max-bs-prefill', '<half of current>'), k('--mem-fraction-static', '<current - 0.05>')]
        : trigger?.batch.kind === 'prefill'
          ? [k('--chunked-prefill-size', '<half of current, e.g. 4096>'), k('--mem-fraction-static', '<current - 0.05>'), k('--max-running-requests', '<smaller>'), k('--max-total-tokens', '<smaller>'), k('--cuda-graph-max-bs-decode', '<smaller>')]
          : [k('--max-running-requests', '<smaller>'), k('--mem-fraction-static', '<current - 0.05>'), k('--max-total-tokens', '<smaller>'), k('--chunked-prefill-size', '<smaller>'), k('--cuda-graph-max-bs-decode', '<smaller>')];
    const facts: Facts = { oom: first.text, capacityKnobs: knobs.map((x) => x.flag) };
    if (first.tried) facts.triedToAllocate = first.tried;
    if (first.gpu !== undefined) facts.oomGpu = first.gpu;
    if (first.rank) facts.oomRank = first.rank;
    if (trigger) facts.triggerBatch = batchFact(trigger.batch);

    return {
      rule: this.id,
      priority: PRIORITY.oom,
      problemClass: 'crash',
      strongestSignal: `GPU out of memory${first.tried ? ` (tried to allocate ${first.tried})` : ''}${first.startup ? ' while sizing the KV cache at start-up' : duringGraphCapture ? ' during CUDA graph capture' : ''}`,
      bestGuess: first.startup
        ? 'The KV cache pool does not fit: the static memory fraction is too small for the model and context, or too large to leave room for activations and graphs.'
        : `Capacity: activations for ${trigger ? `a ${trigger.batch.kind} batch of ${trigger.batch.newToken ?? '?'} new tokens` : 'the batch'} did not fit next to the KV cache pool and CUDA graphs.`,
      ruledOut: ['a hang: an OOM kills the batch; any stall after it is a consequence', 'a kernel bug: the allocator refused memory, no kernel faulted'],
      nextStep: {
        skill: 'fix-at-traceback',
        why: `Replay the trigger on a clean target and turn the capacity knobs one at a time (${knobs.map((x) => x.flag).join(', ')}) until it fits; keep the change that costs least throughput.`,
        commands: oomCommands(ctx, knobs, hasReplayEvidence(evidence)),
      },
      productionRisk: 'high: the same load shape will OOM again; each OOM fails the batch and may take the scheduler down',
      facts,
      evidence: refs,
    };
  },
};
