import type { IncidentRecord, IncidentStatus } from '../src/incident/types.js';
import { whereItStands } from '../src/incident/timeline.js';
import { button, context, section, truncate, userMention, type Block } from './blocks-kit.js';
import { ACTIONS, resolveButton, type SlackMessage } from './blocks.js';
import { encodeButtonValue } from './button-value.js';
import { slackCode, slackLine } from './sanitize.js';

export const STATE_ICON: Record<IncidentStatus, string> = {
  open: ':large_orange_circle:',
  investigating: ':mag:',
  mitigated: ':large_yellow_circle:',
  resolved: ':white_check_mark:',
  failed: ':x:',
};

export type RootView = Pick<
  IncidentRecord,
  'id' | 'server' | 'host' | 'status' | 'pipeline' | 'createdBy' | 'createdAt' | 'updatedAt' | 'owner' | 'severity' | 'problemClass' | 'nextSkill' | 'resolvedBy' | 'resolvedAt' | 'resolveReason' | 'jobState' | 'steps' | 'attempt' | 'failure'
>;

/**
 * The incident's channel message, redrawn in place (chat.update) whenever the incident moves:
 * state, severity, owner, class and next skill, what is running now, and once resolved who
 * resolved it and why. Colleagues scanning the channel read where each incident stands. Pure.
 */
export function rootMessage(incident: RootView): SlackMessage {
  const l = slackLine;
  const owner = incident.owner ? `owner ${userMention(incident.owner)}` : '_no owner yet_ (`/triage own`)';
  const severity = incident.severity ? ` · *${incident.severity.toUpperCase()}*` : '';
  const head = `${STATE_ICON[incident.status]} *${l(incident.id)}* · *${l(incident.server)}* (host \`${slackCode(incident.host)}\`) · *${incident.status}*${severity} · ${owner}`;
  const verdict = incident.problemClass && incident.nextSkill ? `*Verdict:* ${incident.problemClass} → next \`${incident.nextSkill}\`` : '*Verdict:* _none yet_';
  const lines = [head, verdict];
  if (incident.status === 'resolved') {
    const by = incident.resolvedBy ? ` by ${userMention(incident.resolvedBy)}` : '';
    lines.push(`*Resolved*${by}${incident.resolvedAt ? ` at ${clock(incident.resolvedAt)}` : ''}: ${l(truncate(incident.resolveReason ?? 'no reason given', 600))}`);
  } else {
    lines.push(`*Now:* ${l(truncate(whereItStands(incident as IncidentRecord), 600))}`);
  }
  const blocks: Block[] = [
    section(lines.join('\n')),
    context(`Opened by ${userMention(incident.createdBy)} at ${clock(incident.createdAt)} · updated ${clock(incident.updatedAt)} · progress and results in this thread`),
  ];
  if (incident.status !== 'resolved') {
    const value = encodeButtonValue({ i: incident.id });
    blocks.push({ type: 'actions', block_id: 'triage.root', elements: [button(incident.owner ? 'Take over ownership' : 'Take ownership', ACTIONS.own, value), resolveButton(incident.id, value)] });
  }
  const verdictText = incident.problemClass && incident.nextSkill ? ` · ${incident.problemClass} → ${incident.nextSkill}` : '';
  return { text: truncate(slackLine(`${incident.id}: ${incident.pipeline} on ${incident.server} · ${incident.status}${verdictText}`), 300), blocks };
}

function clock(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')}Z`;
}
