import type { Report } from '../src/contracts/report.js';
import { bullets, button, capBlocks, codeSection, context, divider, header, section, truncate, type Block, type Button } from './blocks-kit.js';
import { encodeButtonValue } from './button-value.js';
import { oneLine, slackCode, slackCodeBlock, slackLine } from './sanitize.js';

export interface SummaryIncident {
  id: string;
  server: string;
  host: string;
  pipeline: string;
  /** The incident folder on the host. */
  incidentDir?: string;
}

export interface SlackMessage {
  /** Notification / fallback text. */
  text: string;
  blocks: Block[];
}

/** Action ids of the bot's buttons; src/slack/actions registers one handler for each. */
export const ACTIONS = {
  replay: 'triage.replay',
  route: 'triage.route',
  nextStep: 'triage.next_step',
  resolve: 'triage.resolve',
  own: 'triage.own',
  /** The confirm button of an intrusive slash command (`/triage run`, `/triage replay`). */
  confirmRun: 'triage.confirm_run',
  /** The confirm button of `/triage resolve <incident> <reason>`. */
  confirmResolve: 'triage.confirm_resolve',
} as const;

/** callback_id of the modal that asks for a resolve reason. */
export const RESOLVE_MODAL = 'triage.resolve_reason';

const CLASS_EMOJI: Record<Report['problemClass'], string> = {
  unhealthy: ':red_circle:',
  slow: ':snail:',
  crash: ':boom:',
  hang: ':hourglass:',
  'wrong-output': ':warning:',
  regression: ':rewind:',
  unknown: ':grey_question:',
};

/** The pipeline that carries out the report's next skill (the caller reads the pipeline catalog). */
export interface NextStepView {
  /** null: a person runs this skill. */
  pipeline: string | null;
  intrusive: boolean;
  /** It already ran on this evidence: the button says so instead of running it again. */
  alreadyRan?: boolean;
}

export interface SummaryOptions {
  /** The job whose result this is: its buttons carry it, so a press on an older summary is told apart. */
  jobId?: string;
  /** Without it the next-step button is the person's kind (it shows the commands). */
  next?: NextStepView;
  /** A newer result exists: drawn without buttons, pointing below. */
  superseded?: boolean;
}

/**
 * The threaded incident summary, in the order the triage method asks for: class, strongest
 * signal, best guess, next step with its exact commands, risk, what was ruled out and checked.
 * Long lists are cut here; the attached report.md carries everything. Every report value came
 * from evidence and goes through the sanitizer. Pure.
 */
export function summaryMessage(report: Report, incident: SummaryIncident, options: SummaryOptions = {}): SlackMessage {
  const l = slackLine;
  const c = slackCode;
  const blocks: Block[] = [
    header(`${oneLine(incident.id)}: ${report.problemClass}`),
    section(
      [
        `${CLASS_EMOJI[report.problemClass]} *${l(report.problemClass)}* on *${l(incident.server)}* (host \`${c(incident.host)}\`, ${l(incident.pipeline)})`,
        `*Strongest signal:* ${l(report.strongestSignal)}`,
        `*Best guess:* ${l(report.bestGuess)}`,
      ].join('\n'),
    ),
    section(`*Next step:* \`${report.nextStep.skill}\`\n${l(report.nextStep.why)}`),
  ];
  if (report.nextStep.commands.length) blocks.push(codeSection('*Commands*', report.nextStep.commands.map(slackCodeBlock)));
  blocks.push(section(`*Production risk:* ${l(report.productionRisk)}`));
  if (report.ruledOut.length) blocks.push(section(`*Ruled out*\n${bullets(report.ruledOut.map(l))}`));
  if (report.checked.length) blocks.push(section(`*Checked*\n${bullets(report.checked.map(l))}`));
  if (report.evidence.length) blocks.push(section(`*Evidence*\n${bullets(report.evidence.map((ev) => `\`${c(ev.file)}\`: ${l(ev.fact)}`))}`));
  const facts = Object.entries(report.facts).filter(([k, v]) => k !== 'rule' && v !== undefined && v !== null && typeof v !== 'object');
  if (facts.length) blocks.push(context(truncate(facts.map(([k, v]) => `${l(k)}: \`${c(String(v))}\``).join(' · '), 2900)));
  blocks.push(divider());
  blocks.push(context(incident.incidentDir ? `Incident folder on \`${c(incident.host)}\`: \`${c(incident.incidentDir)}\` · full report in report.md` : 'Full report in report.md'));
  if (options.superseded) blocks.push(context(':arrow_down: Superseded by a newer result further down this thread; its buttons are the live ones.'));
  else blocks.push({ type: 'actions', block_id: 'triage.summary', elements: summaryButtons(report, incident, options) });
  return {
    text: truncate(slackLine(`${incident.id}: ${report.problemClass} on ${incident.server}. Next: ${report.nextStep.skill}. ${report.strongestSignal}`), 300),
    blocks: capBlocks(blocks),
  };
}

function summaryButtons(report: Report, incident: SummaryIncident, options: SummaryOptions): Button[] {
  const value = encodeButtonValue({ i: incident.id, ...(options.jobId ? { j: options.jobId } : {}) });
  return [
    button('Replay', ACTIONS.replay, value, undefined, {
      title: 'Replay on the clean target?',
      text: `Replays the saved requests of \`${slackCode(incident.id)}\` on the clean target. This is intrusive: only the people \`access\` lists may start it.`,
      confirm: 'Replay',
    }),
    button('Route again', ACTIONS.route, value),
    nextStepButton(report, incident, value, options),
    resolveButton(incident.id, value),
  ];
}

function nextStepButton(report: Report, incident: SummaryIncident, value: string, options: SummaryOptions): Button {
  const skill = report.nextStep.skill;
  const pipeline = options.next?.pipeline;
  if (!pipeline) return button(`Next step: ${skill} (by a person)`, ACTIONS.nextStep, value);
  if (options.next?.alreadyRan) return button(`${pipeline} already ran on this evidence`, ACTIONS.nextStep, value);
  if (!options.next?.intrusive) return button(`Run next step (${pipeline})`, ACTIONS.nextStep, value, 'primary');
  return button(`Run next step (${pipeline})`, ACTIONS.nextStep, value, 'primary', {
    title: `Run ${pipeline}?`,
    text: `Starts the *${pipeline}* pipeline for \`${slackCode(incident.id)}\` (${skill}). It is intrusive: it may start the clean target, replay traffic, attach a debugger or profile.`,
    confirm: `Run ${pipeline}`,
  });
}

/** "Mark resolved": a confirm dialog first, then the bot asks for the reason. */
export function resolveButton(incidentId: string, value = encodeButtonValue({ i: incidentId })): Button {
  return button('Mark resolved', ACTIONS.resolve, value, 'danger', {
    title: 'Resolve this incident?',
    text: `Closes \`${slackCode(incidentId)}\` for everyone; you will be asked for a reason. Only the people \`access\` lists may resolve.`,
    confirm: 'Resolve',
  });
}

export interface FailureOptions {
  jobId?: string;
  superseded?: boolean;
}

/** Posted in the thread when an incident's job failed for good. */
export function failureMessage(incident: SummaryIncident, reason: string, attempts: number, options: FailureOptions = {}): SlackMessage {
  const l = slackLine;
  const c = slackCode;
  const value = encodeButtonValue({ i: incident.id, ...(options.jobId ? { j: options.jobId } : {}) });
  const blocks: Block[] = [
    section(`:x: *${l(incident.pipeline)}* on *${l(incident.server)}* failed after ${attempts} attempt${attempts === 1 ? '' : 's'}.\n*Reason:* ${l(reason)}`),
    context(`Nothing was lost: what the steps wrote stays in \`${c(incident.incidentDir ?? incident.id)}\` on \`${c(incident.host)}\`. Try \`/triage capture ${c(incident.server)}\` again, or \`/triage status ${c(incident.id)}\`.`),
  ];
  if (options.superseded) blocks.push(context(':arrow_down: Superseded by a newer result further down this thread.'));
  else blocks.push({ type: 'actions', block_id: 'triage.failed', elements: [button('Route again', ACTIONS.route, value), resolveButton(incident.id, value)] });
  return { text: truncate(slackLine(`${incident.id}: ${incident.pipeline} failed on ${incident.server}: ${reason}`), 300), blocks };
}

/** A one-line message (thread notes, ephemeral replies). The caller escapes what came from outside. */
export function noteMessage(text: string): SlackMessage {
  return { text: truncate(text, 300), blocks: [section(text)] };
}

/** "Nothing new": a route or re-run that came back with the verdict already shown. */
export function noChangeMessage(incident: SummaryIncident, report: Report): SlackMessage {
  return noteMessage(`:repeat: *${slackLine(incident.pipeline)}* finished: no change. Still *${report.problemClass}* → \`${report.nextStep.skill}\`; the summary above and its buttons stand.`);
}
