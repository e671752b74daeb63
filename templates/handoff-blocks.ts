import type { IncidentRecord } from '../src/incident/types.js';
import { whereItStands } from '../src/incident/timeline.js';
import { context, escapeMrkdwn, header, section, type Block } from './blocks-kit.js';
import type { SlackMessage } from './blocks.js';

/** Each incident takes one block; the rest of the 50 is header and footer. */
const MAX_LISTED = 45;

/** `/triage handoff`: every incident not yet resolved and where it stands, oldest first. Pure. */
export function handoffMessage(incidents: readonly IncidentRecord[], now: Date): SlackMessage {
  if (!incidents.length) {
    return { text: 'No open incidents.', blocks: [section(':sunny: No open incidents. Nothing to hand off.')] };
  }
  const blocks: Block[] = [header(`Handoff: ${incidents.length} open incident${incidents.length === 1 ? '' : 's'}`)];
  for (const incident of incidents.slice(0, MAX_LISTED)) blocks.push(section(incidentLine(incident, now)));
  if (incidents.length > MAX_LISTED) blocks.push(context(`_${incidents.length - MAX_LISTED} more not shown; \`/triage status <incident>\` shows any one_`));
  blocks.push(context(`As of ${now.toISOString().slice(0, 16).replace('T', ' ')}Z`));
  return { text: `Handoff: ${incidents.length} open incident(s)`, blocks };
}

export function incidentLine(incident: IncidentRecord, now: Date): string {
  const e = escapeMrkdwn;
  const flag = incident.status === 'failed' ? ':x:' : ':large_orange_circle:';
  return [
    `${flag} *${e(incident.id)}* · *${e(incident.server)}* (\`${e(incident.host)}\`) · <#${incident.channel}> · open ${age(incident.createdAt, now)} · by <@${incident.createdBy}>`,
    `↳ ${e(whereItStands(incident))}`,
  ].join('\n');
}

export function age(iso: string, now: Date): string {
  const minutes = Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d`;
}
