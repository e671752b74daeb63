/**
 * regression: the regression pipeline wrote a bisect harness (bisect/plan.json) and a good-vs-bad diff
 * (bisect/version-diff.json). Next: git bisect with the harness, or the first bad commit when it ran.
 */
import type { Evidence } from '../../evidence/types.js';
import { PRIORITY, type RouteContext, type Rule, type Verdict } from '../rule.js';
import { bisectCommands } from '../rule-commands.js';

export const regressionRule: Rule = {
  id: 'regression',
  evaluate(evidence: Evidence, _ctx: RouteContext): Verdict | null {
    const plan = evidence.of('bisect-plan')[0];
    if (!plan) return null;
    const diff = evidence.of('version-diff')[0];
    const changed = diff?.data.versions.filter((v) => v.good !== v.bad && (v.good ?? v.bad) !== null) ?? [];
    const p = plan.data;
    const found = p.ran && p.firstBadCommit;
    return {
      rule: 'regression',
      priority: PRIORITY.slow - 1,
      problemClass: 'regression',
      strongestSignal: found ? `git bisect named the first bad commit: ${p.firstBadCommit}` : `a replay-backed bisect harness between ${p.good} (good) and ${p.bad} (bad) is ready`,
      bestGuess: found
        ? `the regression came in with ${p.firstBadCommit}`
        : changed.length
          ? `the change between the builds: ${changed.map((v) => `${v.key} ${v.good ?? '?'} → ${v.bad ?? '?'}`).join(', ')}`
          : 'a change between the good and the bad build; the harness finds which commit',
      ruledOut: [],
      nextStep: {
        skill: 'git-bisect',
        why: found ? 'Read the first bad commit and its diff; the bisect log shows each revision\'s replay.' : 'Run git bisect with the harness: it builds, starts, replays the saved trigger and answers good (0), bad (1) or skip (125).',
        commands: bisectCommands(p),
      },
      productionRisk: 'as the incident: the bad build is what serves',
      facts: { good: p.good, bad: p.bad, harness: p.harness, ...(p.firstBadCommit ? { firstBadCommit: p.firstBadCommit } : {}), ...(changed.length ? { versionsChanged: changed } : {}) },
      evidence: [{ file: plan.file, fact: found ? `first bad commit ${p.firstBadCommit}` : `bisect harness ${p.harness}` }, ...(diff ? [{ file: diff.file, fact: `${diff.data.serverInfoDiff.length} server_info field(s) differ between good and bad` }] : [])],
    };
  },
};
