/**
 * wrong output, from compare/outputs.json (greedy replay on the clean target vs the outputs the dump
 * recorded). Identity first: when what serves changed (weights, template, parsers, quantisation,
 * topology), that change is the lead. When identity matches and greedy outputs still differ, the
 * kernels or the cache disagree: SGLang's kl-consistency-test (prefill vs decode logprobs) localises it.
 */
import type { Evidence } from '../../evidence/types.js';
import { differingOutputsCommands, identityDiffCommands } from '../rule-commands.js';
import { PRIORITY, type RouteContext, type Rule, type Verdict } from '../rule.js';

export const wrongOutputRule: Rule = {
  id: 'wrong-output',
  evaluate(evidence: Evidence, ctx: RouteContext): Verdict | null {
    const item = evidence.of('output-compare')[0];
    if (!item) return null;
    const d = item.data;
    const changed = d.identity?.changed ?? [];
    const first = d.results.find((r) => r.same === false);
    const common = { compared: d.compared, identical: d.identical, differing: d.differing, identityChanged: changed.map((c) => c.field), outputsDiffer: d.differing > 0 };
    const evidenceRefs = [{ file: item.file, fact: `${d.differing} of ${d.compared} greedy replay(s) differ from the recorded output` }];
    if (d.compared === 0) return null;
    if (d.differing === 0) {
      return {
        rule: 'wrong-output',
        priority: PRIORITY.weak,
        problemClass: 'unknown',
        strongestSignal: `greedy replay matches the recorded outputs (${d.identical}/${d.compared})`,
        bestGuess: 'the clean target answers as production did: the wrong output depends on production state, sampling or load',
        ruledOut: ['a deterministic kernel or model difference on these requests'],
        nextStep: { skill: 'collect-more', why: 'Save the requests whose outputs were wrong (request dump) and compare again.', commands: [] },
        productionRisk: 'unknown',
        facts: common,
        evidence: evidenceRefs,
      };
    }
    const identityDrift = changed.length > 0;
    return {
      rule: 'wrong-output',
      priority: PRIORITY.slow + 2,
      problemClass: 'wrong-output',
      strongestSignal: `${d.differing} of ${d.compared} greedy replay(s) differ from the recorded output${first?.firstDifferenceAt !== null && first?.firstDifferenceAt !== undefined ? ` (first at character ${first.firstDifferenceAt})` : ''}`,
      bestGuess: identityDrift
        ? `what serves changed since the previous baseline: ${changed.map((c) => `${c.field} ${JSON.stringify(c.before)} → ${JSON.stringify(c.now)}`).join(', ')}`
        : d.identity?.compared
          ? 'identity matches the previous baseline, yet greedy outputs differ: a numerical or cache-state divergence (prefill vs decode, batch variance)'
          : 'greedy outputs differ; no earlier baseline of this server was found to rule identity drift out',
      ruledOut: identityDrift ? [] : d.identity?.compared ? ['a changed model, template, parser, quantisation or topology (identity matches)'] : [],
      nextStep: identityDrift
        ? { skill: 'collect-more', why: 'Put the changed identity back (or confirm it was intended) and compare again before debugging kernels.', commands: identityDiffCommands(ctx, d.identity!.baseline ?? '') }
        : {
            skill: 'kl-consistency-test',
            why: 'Identity matches and greedy outputs differ: score the same tokens by prefill and by decode (SGLang .claude/skills/kl-consistency-test) to tell batch variance from a wrong cache or state path.',
            commands: differingOutputsCommands(ctx),
          },
      productionRisk: 'high: users get different answers than before',
      facts: common,
      evidence: evidenceRefs,
    };
  },
};
