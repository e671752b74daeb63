import type { IncidentRecord, IncidentTimelineEntry } from '../src/incident/types.js';
import { bullets, codeSection, context, header, section, userMention, type Block } from './blocks-kit.js';
import type { SlackMessage } from './blocks.js';
import { incidentLine } from './handoff-blocks.js';
import { oneLine, slackCode, slackCodeBlock, slackLine } from './sanitize.js';
import { statusMessage } from './status-blocks.js';

const TIMELINE_SHOWN = 12;

/** `/triage status [incident]`: one incident in full: where it stands, its steps, verdict, timeline. Pure. */
export function incidentStatusMessage(incident: IncidentRecord, now: Date): SlackMessage {
  const l = slackLine;
  const blocks: Block[] = [header(`${oneLine(incident.id)} (${incident.status})`), section(incidentLine(incident, now))];
  if (incident.status === 'resolved') blocks.push(section(`*Resolved*${incident.resolvedBy ? ` by ${userMention(incident.resolvedBy)}` : ''}: ${l(incident.resolveReason ?? 'no reason given')}`));
  if (incident.jobState) {
    const live = statusMessage({
      incidentId: incident.id,
      server: incident.server,
      host: incident.host,
      pipeline: incident.pipeline,
      jobState: incident.jobState,
      attempt: incident.attempt,
      steps: incident.steps,
      failure: incident.failure,
      at: incident.updatedAt,
    });
    blocks.push(...live.blocks.slice(0, -1));
  }
  if (incident.report) {
    const r = incident.report;
    blocks.push(section(`*Verdict:* ${l(r.problemClass)} · next \`${r.nextStep.skill}\`\n*Strongest signal:* ${l(r.strongestSignal)}`));
    if (r.nextStep.commands.length) blocks.push(codeSection('*Next commands*', r.nextStep.commands.map(slackCodeBlock)));
  }
  const recent = incident.timeline.slice(-TIMELINE_SHOWN);
  if (recent.length) {
    const older = incident.timeline.length > recent.length;
    blocks.push(section(`*Timeline*${older ? ` (newest ${recent.length})` : ''}\n${bullets(recent.map(timelineLine))}`));
  }
  if (incident.incidentDir) blocks.push(context(`Folder on \`${slackCode(incident.host)}\`: \`${slackCode(incident.incidentDir)}\``));
  return { text: slackLine(`${incident.id}: ${incident.status}`), blocks };
}

function timelineLine(entry: IncidentTimelineEntry): string {
  return `${entry.at.slice(11, 19)} ${slackLine(entry.text)}${entry.by ? ` (${userMention(entry.by)})` : ''}`;
}
