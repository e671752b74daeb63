import type { IncidentRecord, IncidentTimelineEntry } from '../src/incident/types.js';
import { bullets, codeSection, context, escapeMrkdwn, header, section, type Block } from './blocks-kit.js';
import type { SlackMessage } from './blocks.js';
import { incidentLine } from './handoff-blocks.js';
import { statusMessage } from './status-blocks.js';

const TIMELINE_SHOWN = 12;

/** `/triage status [incident]`: one incident in full: where it stands, its steps, verdict, timeline. Pure. */
export function incidentStatusMessage(incident: IncidentRecord, now: Date): SlackMessage {
  const e = escapeMrkdwn;
  const blocks: Block[] = [header(`${incident.id} (${incident.status})`), section(incidentLine(incident, now))];
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
    blocks.push(section(`*Verdict:* ${e(r.problemClass)} · next \`${r.nextStep.skill}\`\n*Strongest signal:* ${e(r.strongestSignal)}`));
    if (r.nextStep.commands.length) blocks.push(codeSection('*Next commands*', r.nextStep.commands.map(e)));
  }
  const recent = incident.timeline.slice(-TIMELINE_SHOWN);
  if (recent.length) {
    const older = incident.timeline.length > recent.length;
    blocks.push(section(`*Timeline*${older ? ` (newest ${recent.length})` : ''}\n${bullets(recent.map(timelineLine))}`));
  }
  if (incident.incidentDir) blocks.push(context(`Folder on \`${e(incident.host)}\`: \`${e(incident.incidentDir)}\``));
  return { text: `${incident.id}: ${incident.status}`, blocks };
}

function timelineLine(entry: IncidentTimelineEntry): string {
  return `${entry.at.slice(11, 19)} ${escapeMrkdwn(entry.text)}${entry.by ? ` (<@${entry.by}>)` : ''}`;
}
