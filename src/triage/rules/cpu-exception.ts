import type { Facts } from '../../contracts/report.js';
import { PRIORITY, type Rule } from '../rule.js';
import { inSchedulerPath } from '../../evidence/gpu/tracebacks.js';
import { hasReplayEvidence } from './gpu-evidence/common.js';
import { tracebackReplayCommands } from './gpu-evidence/commands.js';
import { postMortemCommands } from '../rule-commands.js';
import { findGpuFault } from './gpu-evidence/fault.js';

/**
 * A CPU-side Python exception in the scheduler (run_batch / process_batch_result / the event loop) with no
 * CUDA error anywhere → crash → fix-at-traceback when the traceback names the code (file and line of
 * a frame), else collect-more (the log around it holds the rest of the traceback).
 */
export const cpuExceptionRule: Rule = {
  id: 'scheduler-cpu-exception',
  evaluate(evidence, ctx) {
    if (findGpuFault(evidence)) return null;
    const logs = evidence.of('server-log');
    if (logs.some((i) => i.data.oom.length || i.data.tracebacks.some((t) => t.cls === 'oom' || t.cls === 'cuda'))) return null;
    let hit: { file: string; tb: (typeof logs)[number]['data']['tracebacks'][number]; ranks: string[] } | null = null;
    for (const item of logs) {
      const tb = item.data.tracebacks.find((t) => t.cls === 'cpu' && inSchedulerPath(t)) ?? item.data.tracebacks.find((t) => t.cls === 'cpu' && /hit an exception/.test(t.header ?? ''));
      if (tb) {
        hit = { file: item.file, tb, ranks: item.data.ranks };
        break;
      }
    }
    if (!hit) return null;
    const { tb } = hit;
    const tpRanks = hit.ranks.filter((r) => /TP\d+/.test(r));
    const singleRank = tpRanks.length <= 1;
    const innermost = tb.frames[tb.frames.length - 1];
    const facts: Facts = {
      exceptionType: tb.exceptionType,
      exceptionMessage: tb.message.split('\n')[0] ?? '',
      singleRank,
    };
    if (innermost) facts.exceptionFrame = `${innermost.function} (${innermost.file.split('/').slice(-3).join('/')}:${innermost.line})`;
    if (tb.rank) facts.exceptionRank = tb.rank.label;
    const schedulerFrame = [...tb.frames].reverse().find((f) => /^(run_batch|process_batch_result\w*|event_loop_\w+)$/.test(f.function));

    return {
      rule: this.id,
      priority: PRIORITY.cpuException,
      problemClass: 'crash',
      strongestSignal: `${tb.header ? `${tb.header.replace(/\s*Traceback.*$/, '').slice(0, 160)} ` : ''}${tb.exceptionType}: ${facts.exceptionMessage}${innermost ? ` at ${facts.exceptionFrame}` : ''}`,
      bestGuess: `A host-side Python bug in the scheduler${schedulerFrame ? ` (${schedulerFrame.function})` : ''}: ${tb.exceptionType} on this batch, no CUDA error involved.${singleRank ? '' : ' On a multi-rank server the other ranks then wait in their next collective; the exception is the cause.'}`,
      ruledOut: ['a CUDA kernel fault: no CUDA error or coredump in the evidence', 'out of memory: no allocation failure'],
      nextStep: innermost
        ? {
            skill: 'fix-at-traceback',
            why: `The traceback names the code: ${facts.exceptionFrame}. Replay the trigger on a clean target launched with production's flags (the same code path) to confirm the same ${tb.exceptionType}, then fix it at that frame${singleRank ? '' : '; on several ranks, the first rank to raise is the cause'}.`,
            commands: tracebackReplayCommands(ctx, hasReplayEvidence(evidence)),
          }
        : {
            skill: 'collect-more',
            why: 'The scheduler raised, but no frame of the traceback is in the evidence: copy the server log around the exception so the traceback names the code, then route again.',
            commands: postMortemCommands(ctx),
          },
      productionRisk: 'high: the scheduler died on this request shape; the server is down until restarted and the request will kill it again',
      facts,
      evidence: [{ file: hit.file, fact: `traceback at line ${tb.line}${tb.rank ? ` [${tb.rank.label}]` : ''}: ${tb.exceptionType}: ${facts.exceptionMessage} (frames: ${tb.frames.slice(-3).map((f) => f.function).join(' → ')})` }],
    };
  },
};
