import type { Evidence } from '../evidence/types.js';
import { reportSchema, type Report } from '../contracts/report.js';
import type { RouteContext, Rule, Verdict } from './rule.js';
import { collectMoreCommands } from './next-commands.js';

/**
 * Classifies an incident from its evidence: every rule looks, the highest-priority verdict wins.
 * Pure: no I/O. The report it returns always satisfies the output contract.
 */
export function route(evidence: Evidence, ctx: RouteContext, rules: readonly Rule[]): Report {
  let best: Verdict | null = null;
  const others: Verdict[] = [];
  for (const rule of rules) {
    const verdict = rule.evaluate(evidence, ctx);
    if (!verdict) continue;
    if (!best || verdict.priority > best.priority) {
      if (best) others.push(best);
      best = verdict;
    } else {
      others.push(verdict);
    }
  }
  const checked = evidence.checked.length ? [...evidence.checked] : ['no recognisable evidence in the folder'];
  if (!best) return reportSchema.parse(fallbackReport(evidence, ctx, checked));

  const secondary = others
    .filter((v) => v.problemClass !== best.problemClass)
    .map((v) => `also seen (${v.problemClass}, lower priority): ${v.strongestSignal}`);
  return reportSchema.parse({
    problemClass: best.problemClass,
    checked: [...checked, ...secondary],
    strongestSignal: best.strongestSignal,
    bestGuess: best.bestGuess,
    ruledOut: dedupe(best.ruledOut),
    nextStep: best.nextStep,
    productionRisk: best.productionRisk,
    facts: { ...best.facts, rule: best.rule },
    evidence: best.evidence,
  });
}

function fallbackReport(evidence: Evidence, ctx: RouteContext, checked: string[]): Report {
  const empty = evidence.items.length === 0;
  return {
    problemClass: 'unknown',
    checked,
    strongestSignal: empty ? 'no evidence found in the folder' : 'no rule matched the evidence',
    bestGuess: 'not enough evidence to classify; keep the scene first',
    ruledOut: [],
    nextStep: {
      skill: 'collect-more',
      why: 'Nothing here points at a class yet. Capture a read-only bundle now and save a replayable request before anything intrusive.',
      commands: collectMoreCommands(ctx),
    },
    productionRisk: 'unknown: no health verdict was captured',
    facts: { rule: 'fallback' },
    evidence: [],
  };
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}
