import type { JobState, StepView } from '../src/incident/types.js';
import { context, LIMITS, section, truncate, type Block } from './blocks-kit.js';
import type { SlackMessage } from './blocks.js';
import { slackCode, slackLine } from './sanitize.js';

export interface StatusView {
  incidentId: string;
  server: string;
  host: string;
  pipeline: string;
  jobState: JobState;
  attempt?: number;
  steps: readonly StepView[];
  failure?: string;
  /** ISO time of this view (shown so people see the message is live). */
  at: string;
}

const STEP_ICON: Record<StepView['state'], string> = {
  started: ':hourglass_flowing_sand:',
  done: ':white_check_mark:',
  failed: ':x:',
  skipped: ':fast_forward:',
};

const JOB_LINE: Record<JobState, string> = {
  queued: ':inbox_tray: queued',
  running: ':gear: running',
  retrying: ':repeat: retrying',
  done: ':white_check_mark: done',
  failed: ':x: failed',
};

/**
 * The one live status message of a job: its steps with their states, and for the step running
 * now its live counters (a replay's requests sent, done, failed), how long it has run and its
 * deadline. chat.update redraws it. Pure.
 */
export function statusMessage(view: StatusView): SlackMessage {
  const l = slackLine;
  const attempt = view.attempt && view.attempt > 1 ? ` (attempt ${view.attempt})` : '';
  const head = `*${l(view.pipeline)}* on *${l(view.server)}* · host \`${slackCode(view.host)}\` · ${JOB_LINE[view.jobState]}${attempt}`;
  const blocks: Block[] = [section(head)];
  if (view.steps.length) blocks.push(section(stepLines(view.steps)));
  else if (view.jobState === 'queued') blocks.push(section('_waiting for the host\'s worker_'));
  const live = view.jobState === 'running' ? currentStep(view.steps) : undefined;
  if (live) blocks.push(context(liveLine(live, view.at)));
  if (view.failure && (view.jobState === 'failed' || view.jobState === 'retrying')) blocks.push(section(`*Last error:* ${l(truncate(view.failure, 1500))}`));
  blocks.push(context(`\`${slackCode(view.incidentId)}\` · updated ${view.at.slice(11, 19)}Z`));
  return { text: truncate(slackLine(`${view.incidentId}: ${view.pipeline} ${view.jobState}`), 300), blocks };
}

/** The step running now: the newest one started and not yet finished. */
export function currentStep(steps: readonly StepView[]): StepView | undefined {
  return [...steps].reverse().find((s) => s.state === 'started');
}

/** "replay on clean target · 2 min 10 s · sent 120 · done 98 · failed 2 · deadline 01:21:00Z (in 3 min)" */
function liveLine(step: StepView, at: string): string {
  const now = Date.parse(at);
  const parts = [`:stopwatch: *${slackLine(step.step)}* running ${duration(now - Date.parse(step.at))}`];
  for (const [name, value] of Object.entries(step.counters ?? {}).slice(0, 8)) parts.push(`${slackLine(name)} ${Number.isFinite(value) ? value : '?'}`);
  if (step.deadline && Number.isFinite(Date.parse(step.deadline))) {
    const left = Date.parse(step.deadline) - now;
    parts.push(`deadline ${step.deadline.slice(11, 19)}Z (${left >= 0 ? `in ${duration(left)}` : `passed ${duration(-left)} ago`})`);
  }
  return parts.join(' · ');
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function stepLines(steps: readonly StepView[]): string {
  const lines = steps.map((s) => `${STEP_ICON[s.state]} ${slackLine(s.step)}${s.detail ? ` · ${slackLine(truncate(s.detail, 300))}` : ''}`);
  // Newest steps matter most: drop the oldest when the list would overflow one section.
  let text = lines.join('\n');
  let dropped = 0;
  while (text.length > LIMITS.sectionText - 60 && lines.length > 1) {
    lines.shift();
    dropped++;
    text = `_${dropped} earlier steps not shown_\n${lines.join('\n')}`;
  }
  return text;
}
