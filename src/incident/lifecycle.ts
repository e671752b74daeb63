import { createHash } from 'node:crypto';
import type { Report } from '../contracts/report.js';
import type { IncidentStatus, LifecycleState } from './types.js';

/**
 * Which states a person may move an incident to from which. Forward through the lifecycle, back
 * from mitigated to investigating (it came back), and resolve from anywhere not yet resolved.
 * A resolved incident stays resolved: a new capture opens a new incident.
 */
export const ALLOWED_FROM: Readonly<Record<Exclude<LifecycleState, 'open'>, readonly IncidentStatus[]>> = {
  investigating: ['open', 'failed', 'mitigated'],
  mitigated: ['open', 'failed', 'investigating'],
  resolved: ['open', 'failed', 'investigating', 'mitigated'],
};

export type TargetState = keyof typeof ALLOWED_FROM;

/** A Slack user id (U…/W…): alert sources and the system are never owners. */
export function isSlackUser(id: string): boolean {
  return /^[UW][A-Z0-9]{2,}$/.test(id);
}

/**
 * What a verdict rests on, as a short hash: class, next skill, signal, guess, evidence and facts.
 * Two runs that saw the same evidence produce the same fingerprint, so the bot can say "no change"
 * and "Run next step" can tell that its pipeline already ran on this evidence.
 */
export function evidenceFingerprint(report: Report): string {
  const basis = {
    problemClass: report.problemClass,
    skill: report.nextStep.skill,
    strongestSignal: report.strongestSignal,
    bestGuess: report.bestGuess,
    evidence: report.evidence.map((e) => [e.file, e.fact]),
    facts: sortedEntries(report.facts),
  };
  return createHash('sha256').update(JSON.stringify(basis)).digest('hex').slice(0, 16);
}

function sortedEntries(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedEntries);
  if (value && typeof value === 'object') {
    return Object.keys(value)
      .sort()
      .map((k) => [k, sortedEntries((value as Record<string, unknown>)[k])]);
  }
  return value;
}
