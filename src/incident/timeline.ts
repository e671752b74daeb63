import type { StepProgress } from '../contracts/progress.js';
import type { IncidentRecord, IncidentTimelineEntry, StepView } from './types.js';

// Pure helpers over an incident's steps and timeline. Text here is plain (no Slack markup):
// templates escape it and add mentions themselves.

/** Folds one progress report into the step list: a step keeps its place, its state moves on. */
export function applyStep(steps: readonly StepView[], progress: StepProgress): StepView[] {
  const index = steps.findIndex((s) => s.step === progress.step);
  const same = index === -1 ? undefined : steps[index];
  // A tick of a running step keeps when it started and its deadline; only what it reports moves on.
  const tick = same?.state === 'started' && progress.state === 'started';
  const deadline = progress.deadline ?? (tick ? same?.deadline : undefined);
  const view: StepView = {
    step: progress.step,
    state: progress.state,
    at: tick && same ? same.at : progress.at,
    ...(progress.detail ? { detail: progress.detail } : {}),
    ...(progress.counters ? { counters: progress.counters } : {}),
    ...(deadline ? { deadline } : {}),
  };
  if (index === -1) return [...steps, view];
  return steps.map((s, i) => (i === index ? view : s));
}

export function stepEntry(progress: StepProgress, pipeline: string): Omit<IncidentTimelineEntry, 'at'> & { at: string } {
  return {
    at: progress.at,
    kind: 'step',
    pipeline,
    step: progress.step,
    state: progress.state,
    text: progress.detail ? `${progress.step}: ${progress.state} (${progress.detail})` : `${progress.step}: ${progress.state}`,
  };
}

/** One line a person on call can read at a glance: where the incident stands now. */
export function whereItStands(incident: IncidentRecord): string {
  if (incident.status === 'resolved') return 'resolved';
  const routed = incident.problemClass && incident.nextSkill ? `${incident.problemClass} → ${incident.nextSkill}` : null;
  switch (incident.jobState) {
    case 'queued':
      return `${incident.pipeline} queued on ${incident.host}${routed ? `; last verdict ${routed}` : ''}`;
    case 'running':
    case 'retrying': {
      const current = [...incident.steps].reverse().find((s) => s.state === 'started') ?? incident.steps.at(-1);
      const attempt = incident.jobState === 'retrying' || (incident.attempt ?? 1) > 1 ? ` (attempt ${incident.attempt ?? 2})` : '';
      return `${incident.pipeline} running${attempt}${current ? `: ${current.step} ${current.state}` : ''}`;
    }
    case 'failed':
      return `${incident.pipeline} failed: ${incident.failure ?? 'unknown reason'}${routed ? `; last verdict ${routed}` : ''}`;
    case 'done':
      return routed ? `routed: ${routed}` : `${incident.pipeline} done`;
    default:
      return routed ? `routed: ${routed}` : 'open';
  }
}
