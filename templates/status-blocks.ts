import type { JobState, StepView } from '../src/incident/types.js';
import { context, escapeMrkdwn, LIMITS, section, truncate, type Block } from './blocks-kit.js';
import type { SlackMessage } from './blocks.js';

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

/** The one live status message of a job: its steps with their states. chat.update redraws it. Pure. */
export function statusMessage(view: StatusView): SlackMessage {
  const e = escapeMrkdwn;
  const attempt = view.attempt && view.attempt > 1 ? ` (attempt ${view.attempt})` : '';
  const head = `*${e(view.pipeline)}* on *${e(view.server)}* · host \`${e(view.host)}\` · ${JOB_LINE[view.jobState]}${attempt}`;
  const blocks: Block[] = [section(head)];
  if (view.steps.length) blocks.push(section(stepLines(view.steps)));
  else if (view.jobState === 'queued') blocks.push(section('_waiting for the host\'s worker_'));
  if (view.failure && (view.jobState === 'failed' || view.jobState === 'retrying')) blocks.push(section(`*Last error:* ${e(truncate(view.failure, 1500))}`));
  blocks.push(context(`\`${e(view.incidentId)}\` · updated ${view.at.slice(11, 19)}Z`));
  return { text: truncate(`${view.incidentId}: ${view.pipeline} ${view.jobState}`, 300), blocks };
}

function stepLines(steps: readonly StepView[]): string {
  const lines = steps.map((s) => `${STEP_ICON[s.state]} ${escapeMrkdwn(s.step)}${s.detail ? ` · ${escapeMrkdwn(truncate(s.detail, 300))}` : ''}`);
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
