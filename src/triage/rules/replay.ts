/**
 * Routing from a replay's outcome (replay.json, recognised by content as kind 'replay').
 *
 * - reproduced 'hang'  → hang, priority just under schedulerStall (REPLAY_PRIORITY): located evidence (a GPU fault, a
 *   stuck collective, a watchdog stack) from other rules wins; the replay says THAT it hangs and
 *   which request triggers it. Next: per-rank stacks, then cuda-gdb attach or the CUDA coredump, on
 *   the hung target while it is still hung (`debug-distributed-hang` when the folder already holds
 *   evidence from two or more ranks, else `collect-more`).
 * - reproduced 'crash' → crash, same band: restart the clean target with CUDA coredumps on, replay,
 *   route again (cuda-gdb evidence then wins).
 * - reproduced true    → unhealthy (server-side errors), weak band.
 * - reproduced 'slow'  → slow, just under the metrics-based slow band; next: profile the replay.
 * - reproduced false / 'inconclusive' → a weak verdict that records what the replay showed.
 */
import type { ReplayEvidence } from '../../evidence/replay.js';
import type { Evidence, EvidenceItem } from '../../evidence/types.js';
import { captureCommand, cleanTargetSteps, replayCommand, routeCommand } from '../next-commands.js';
import { replayProfileCommands, targetBundleCommands, targetLogCommands } from '../rule-commands.js';
import type { Facts } from '../../contracts/report.js';
import { hangCollectionCommands } from './gpu-evidence/commands.js';
import { PRIORITY, type RouteContext, type Rule, type Verdict } from '../rule.js';

/**
 * hang sits one above the bundle-only `replay-bundle-degraded` rule (schedulerStall - 5): both say
 * "the replay hung it", but replay.json also names the trigger request. Still below schedulerStall,
 * so located stacks, collectives and GPU faults win.
 */
export const REPLAY_PRIORITY = {
  hang: PRIORITY.schedulerStall - 4,
  // Above server-down (unhealthy + 5): a replay bundle refused after the target crashed is the crash's consequence.
  crash: PRIORITY.schedulerStall - 3,
  slow: PRIORITY.slow - 5,
  errors: PRIORITY.weak + 10,
  notReproduced: PRIORITY.weak,
  inconclusive: PRIORITY.weak - 5,
} as const;

/** Base URL of the replay target (replay.json stores the /generate URL). */
function targetBase(e: ReplayEvidence): string {
  return e.target.replace(/\/generate\/?$/, '');
}

/** The server runs several ranks (dump server_args or a bundle's /server_info): a request-shaped hang there is usually a collective. */
function multiRankTopology(evidence: Evidence): boolean {
  const many = (t: Record<string, number | null | undefined>) => Object.values(t).some((v) => typeof v === 'number' && v > 1);
  return (
    evidence.of('dump').some((d) => 'topology' in d.data && many(d.data.topology as unknown as Record<string, number | null>)) ||
    evidence.of('bundle').some((b) => many({ tp: b.data.topology.tp_size, dp: b.data.topology.dp_size, pp: b.data.topology.pp_size, ep: b.data.topology.ep_size }))
  );
}

/** Distinct ranks the folder already has evidence from (file names like rank1.*, or data.rank). */
export function ranksWithEvidence(evidence: Evidence): Set<number> {
  const ranks = new Set<number>();
  for (const item of evidence.items as Array<{ kind: string; file: string; data: unknown }>) {
    if (item.kind === 'replay') continue;
    const m = /(?:^|[^a-z])(?:tp_?)?rank[_-]?(\d+)/i.exec(item.file);
    if (m) ranks.add(Number(m[1]));
    const data = item.data as Record<string, unknown> | null;
    for (const key of ['rank', 'tpRank', 'tp_rank']) {
      const v = data && typeof data === 'object' ? data[key] : undefined;
      if (typeof v === 'number' && Number.isInteger(v)) ranks.add(v);
    }
  }
  return ranks;
}

/** While the target still hangs: the shared per-rank collection, then a replay-time bundle, then route. */
export function replayHangCommands(ctx: RouteContext, e: ReplayEvidence): string[] {
  const targetCtx: RouteContext = { ...ctx, server: { url: targetBase(e), ...(ctx.server?.schedulerProcessPattern ? { schedulerProcessPattern: ctx.server.schedulerProcessPattern } : {}) } };
  return [...hangCollectionCommands(targetCtx, []), ...targetBundleCommands(ctx, targetBase(e))];
}

function triggerFacts(e: ReplayEvidence): Facts['triggerRequest'] {
  const t = e.trigger;
  if (!t) return undefined;
  return { idx: t.idx, rid: t.rid, promptTokens: t.promptTokens, textPreview: t.textPreview, unfinishedInDump: t.unfinishedInDump };
}

function describeTrigger(e: ReplayEvidence): string {
  const t = e.trigger;
  if (!t) return '';
  const tokens = t.promptTokens !== null ? `${t.promptTokens} prompt tokens` : 'unknown prompt length';
  return ` Trigger: request idx ${t.idx}${t.rid ? ` (rid ${t.rid})` : ''}, ${tokens}${t.textPreview ? `, text ${t.textPreview}` : ''}.`;
}

/** The newest replay when the folder holds several. */
function newest(items: Array<EvidenceItem<'replay'>>): EvidenceItem<'replay'> | undefined {
  return [...items].sort((a, b) => b.data.finishedAt.localeCompare(a.data.finishedAt))[0];
}

function verdict(base: Omit<Verdict, 'rule' | 'ruledOut' | 'productionRisk'> & Partial<Pick<Verdict, 'ruledOut' | 'productionRisk'>>): Verdict {
  return { rule: 'replay', ruledOut: [], productionRisk: 'unknown from the replay alone', ...base };
}

export const replayRule: Rule = {
  id: 'replay',
  evaluate(evidence: Evidence, ctx: RouteContext): Verdict | null {
    const item = newest(evidence.of('replay'));
    if (!item) return null;
    const e = item.data;
    const ref = (fact: string) => [{ file: item.file, fact }];
    const common: Facts = {
      reproduced: e.reproduced,
      replayTarget: targetBase(e),
      replayOutcomes: e.outcomes,
      ...(e.trigger ? { triggerRequest: triggerFacts(e) } : {}),
    };

    if (e.reproduced === 'hang') {
      const multiRank = ranksWithEvidence(evidence).size >= 2 || multiRankTopology(evidence);
      const stoppedAll = e.targetHungAtMs !== null;
      return verdict({
        priority: REPLAY_PRIORITY.hang,
        problemClass: 'hang',
        strongestSignal: `replay hung the clean target: ${e.reproducedWhy}`,
        bestGuess: `a request-shaped hang: the replayed request stalls the server${stoppedAll ? ' and the whole target stopped answering' : ''}.${describeTrigger(e)}`,
        ruledOut: ['production load (the replay reproduced it on a clean target)'],
        nextStep: {
          skill: multiRank ? 'debug-distributed-hang' : 'collect-more',
          why: multiRank
            ? 'The replay reproduces the hang on a multi-rank server: ranks diverging on a collective is the usual cause. While the target is still hung, take nvidia-smi and per-rank stacks, then cuda-gdb attach (or, on a disposable target, every rank\'s CUDA coredump at once), and compare ranks for the first divergence.'
            : 'The replay reproduces the hang. While the target is still hung, take nvidia-smi and per-rank stacks, then cuda-gdb attach (or the CUDA coredump on a disposable target), then route again.',
          commands: replayHangCommands(ctx, e),
        },
        productionRisk: 'high: one request shape can stall serving until the watchdog kills the server',
        facts: { ...common, targetStoppedAnswering: stoppedAll, timeouts: e.outcomes.timeout ?? 0 },
        evidence: ref(`reproduced=hang: ${e.reproducedWhy}`),
      });
    }

    if (e.reproduced === 'crash' && ctx.closedLoop) {
      return verdict({
        priority: REPLAY_PRIORITY.crash,
        problemClass: 'crash',
        strongestSignal: `replay crashed the clean target: ${e.reproducedWhy}`,
        bestGuess: `the replayed traffic kills the server, and no CUDA coredump was read: the fault is likely host-side (a Python exception, an abort, the OOM killer).${describeTrigger(e)}`,
        ruledOut: ['production load (the replay reproduced it on a clean target)'],
        nextStep: {
          skill: 'collect-more',
          why: `The ${ctx.closedLoop.pipeline} pipeline started the target with CUDA coredumps on and no coredump reached the folder: read the end of the target's log for the exception that ended it.`,
          commands: targetLogCommands(ctx),
        },
        productionRisk: 'high: the recorded traffic takes the server down',
        facts: { ...common, serverDiedAtMs: e.serverDiedAtMs },
        evidence: ref(`reproduced=crash: ${e.reproducedWhy}`),
      });
    }

    if (e.reproduced === 'crash') {
      const steps = [...cleanTargetSteps(ctx, { SGLANG_CUDA_COREDUMP: '1', CUDA_ENABLE_USER_TRIGGERED_COREDUMP: '1' }), replayCommand(ctx), routeCommand(ctx)];
      return verdict({
        priority: REPLAY_PRIORITY.crash,
        problemClass: 'crash',
        strongestSignal: `replay crashed the clean target: ${e.reproducedWhy}`,
        bestGuess: `the replayed traffic kills the server.${describeTrigger(e)}`,
        ruledOut: ['production load (the replay reproduced it on a clean target)'],
        nextStep: {
          skill: 'collect-more',
          why: 'The replay reproduces the crash. Restart the clean target with CUDA coredumps on, replay again, and route the coredump with cuda-gdb.',
          commands: steps,
        },
        productionRisk: 'high: the recorded traffic takes the server down',
        facts: { ...common, serverDiedAtMs: e.serverDiedAtMs },
        evidence: ref(`reproduced=crash: ${e.reproducedWhy}`),
      });
    }

    if (e.reproduced === 'slow') {
      const base = targetBase(e);
      return verdict({
        priority: REPLAY_PRIORITY.slow,
        problemClass: 'slow',
        strongestSignal: `replay reproduced the slowness on a clean target: ${e.reproducedWhy}`,
        bestGuess: `compute-side slowness in the request path, not production queueing.${describeTrigger(e)}`,
        ruledOut: ['production load or queueing (a clean target is as slow)'],
        nextStep: {
          skill: 'llm-torch-profiler-analysis',
          why: 'The slowness reproduces on a clean target: profile the replay.',
          commands: replayProfileCommands(ctx, base),
        },
        productionRisk: 'medium: latency, not availability',
        facts: { ...common, ...(e.vsRecorded ? { replayVsRecordedE2e: e.vsRecorded.medianRatio } : {}) },
        evidence: ref(`reproduced=slow: ${e.reproducedWhy}`),
      });
    }

    if (e.reproduced === true) {
      return verdict({
        priority: REPLAY_PRIORITY.errors,
        problemClass: 'unhealthy',
        strongestSignal: `replay got server-side errors: ${e.reproducedWhy}`,
        bestGuess: `the recorded requests fail on a clean target.${describeTrigger(e)}`,
        nextStep: {
          skill: 'collect-more',
          why: 'The replay reproduces errors but nothing here says where they come from: read the target log around the failures and route again.',
          commands: targetBundleCommands(ctx, targetBase(e)),
        },
        facts: common,
        evidence: ref(`reproduced=true: ${e.reproducedWhy}`),
      });
    }

    const inconclusive = e.reproduced !== false;
    return verdict({
      priority: inconclusive ? REPLAY_PRIORITY.inconclusive : REPLAY_PRIORITY.notReproduced,
      problemClass: 'unknown',
      strongestSignal: inconclusive ? `replay was inconclusive: ${e.reproducedWhy}` : `replay did not reproduce the incident: ${e.reproducedWhy}`,
      bestGuess: inconclusive
        ? 'the replay could not judge; fix the replay (target, token, interruption) and run it again'
        : 'the incident depends on production state or load that a clean replay does not recreate',
      ruledOut: inconclusive ? [] : ['a single request shape that fails on its own (the replay answered every request)'],
      nextStep: {
        skill: 'collect-more',
        why: inconclusive
          ? 'Re-run the replay once the target answers.'
          : 'A clean replay did not reproduce it: capture a bundle under production traffic and save more requests.',
        commands: inconclusive ? [replayCommand(ctx), routeCommand(ctx)] : [captureCommand(ctx, 'baseline'), routeCommand(ctx)],
      },
      facts: { ...common, reproduced: inconclusive ? String(e.reproduced) : false },
      evidence: ref(`reproduced=${String(e.reproduced)}: ${e.reproducedWhy}`),
    });
  },
};
