import type { Report } from '../src/contracts/report.js';
import { bullets, button, capBlocks, codeSection, context, divider, escapeMrkdwn, header, section, truncate, type Block } from './blocks-kit.js';

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

/** Action ids of the summary's buttons; src/slack/actions registers one handler for each. */
export const ACTIONS = {
  replay: 'triage.replay',
  route: 'triage.route',
  nextStep: 'triage.next_step',
  resolve: 'triage.resolve',
} as const;

const CLASS_EMOJI: Record<Report['problemClass'], string> = {
  unhealthy: ':red_circle:',
  slow: ':snail:',
  crash: ':boom:',
  hang: ':hourglass:',
  'wrong-output': ':warning:',
  regression: ':rewind:',
  unknown: ':grey_question:',
};

/**
 * The threaded incident summary, in the order the triage method asks for: class, strongest
 * signal, best guess, next step with its exact commands, risk, what was ruled out and checked.
 * Long lists are cut here; the attached report.md carries everything. Pure.
 */
export function summaryMessage(report: Report, incident: SummaryIncident): SlackMessage {
  const e = escapeMrkdwn;
  const blocks: Block[] = [
    header(`${incident.id}: ${report.problemClass}`),
    section(
      [
        `${CLASS_EMOJI[report.problemClass]} *${e(report.problemClass)}* on *${e(incident.server)}* (host \`${e(incident.host)}\`, ${e(incident.pipeline)})`,
        `*Strongest signal:* ${e(report.strongestSignal)}`,
        `*Best guess:* ${e(report.bestGuess)}`,
      ].join('\n'),
    ),
    section(`*Next step:* \`${report.nextStep.skill}\`\n${e(report.nextStep.why)}`),
  ];
  if (report.nextStep.commands.length) blocks.push(codeSection('*Commands*', report.nextStep.commands.map((c) => e(c))));
  blocks.push(section(`*Production risk:* ${e(report.productionRisk)}`));
  if (report.ruledOut.length) blocks.push(section(`*Ruled out*\n${bullets(report.ruledOut.map(e))}`));
  if (report.checked.length) blocks.push(section(`*Checked*\n${bullets(report.checked.map(e))}`));
  if (report.evidence.length) blocks.push(section(`*Evidence*\n${bullets(report.evidence.map((ev) => `\`${e(ev.file)}\`: ${e(ev.fact)}`))}`));
  const facts = Object.entries(report.facts).filter(([k, v]) => k !== 'rule' && v !== undefined && v !== null && typeof v !== 'object');
  if (facts.length) blocks.push(context(truncate(facts.map(([k, v]) => `${k}: \`${e(String(v))}\``).join(' · '), 2900)));
  blocks.push(divider());
  blocks.push(context(incident.incidentDir ? `Incident folder on \`${e(incident.host)}\`: \`${e(incident.incidentDir)}\` · full report in report.md` : 'Full report in report.md'));
  blocks.push({ type: 'actions', block_id: 'triage.summary', elements: summaryButtons(report, incident.id) });
  return {
    text: truncate(`${incident.id}: ${report.problemClass} on ${incident.server}. Next: ${report.nextStep.skill}. ${report.strongestSignal}`, 300),
    blocks: capBlocks(blocks),
  };
}

function summaryButtons(report: Report, incidentId: string) {
  return [
    button('Replay', ACTIONS.replay, incidentId),
    button('Route again', ACTIONS.route, incidentId),
    button(`Run next step (${report.nextStep.skill})`, ACTIONS.nextStep, incidentId, 'primary'),
    button('Mark resolved', ACTIONS.resolve, incidentId, 'danger'),
  ];
}

/** Posted in the thread when an incident's job failed for good. */
export function failureMessage(incident: SummaryIncident, reason: string, attempts: number): SlackMessage {
  const e = escapeMrkdwn;
  return {
    text: truncate(`${incident.id}: ${incident.pipeline} failed on ${incident.server}: ${reason}`, 300),
    blocks: [
      section(`:x: *${e(incident.pipeline)}* on *${e(incident.server)}* failed after ${attempts} attempt${attempts === 1 ? '' : 's'}.\n*Reason:* ${e(reason)}`),
      context(`Nothing was lost: what the steps wrote stays in \`${e(incident.incidentDir ?? incident.id)}\` on \`${e(incident.host)}\`. Try \`/triage capture ${e(incident.server)}\` again, or \`/triage status ${e(incident.id)}\`.`),
      { type: 'actions', block_id: 'triage.failed', elements: [button('Route again', ACTIONS.route, incident.id), button('Mark resolved', ACTIONS.resolve, incident.id, 'danger')] },
    ],
  };
}

/** The channel message that opens an incident; its thread holds the status and the summary. */
export function openedMessage(incident: SummaryIncident & { createdBy: string }): SlackMessage {
  const e = escapeMrkdwn;
  return {
    text: `${incident.id}: ${incident.pipeline} on ${incident.server} started`,
    blocks: [
      section(`:mag: *${e(incident.id)}*: ${e(incident.pipeline)} on *${e(incident.server)}* (host \`${e(incident.host)}\`), asked by <@${incident.createdBy}>.`),
      context('Keeping the scene first: a read-only bundle before anything intrusive. Progress and the summary follow in this thread.'),
    ],
  };
}

/** A one-line message (thread notes, ephemeral replies). */
export function noteMessage(text: string): SlackMessage {
  return { text: truncate(text, 300), blocks: [section(text)] };
}
