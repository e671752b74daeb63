import type { IncidentRecord } from '../src/incident/types.js';
import { SEVERITIES } from '../src/incident/types.js';
import { whereItStands } from '../src/incident/timeline.js';
import { channelMention, context, header, LIMITS, section, slackLink, truncate, userMention, type Block } from './blocks-kit.js';
import type { SlackMessage } from './blocks.js';
import { STATE_ICON } from './root-blocks.js';
import { oneLine, slackCode, slackLine } from './sanitize.js';

/** What a new shift needs: every open incident, and what the last shift resolved. */
export interface HandoffView {
  open: readonly IncidentRecord[];
  resolved: readonly IncidentRecord[];
  /** Start of the last shift (resolved since then are listed). */
  since: Date;
  now: Date;
  /** Which incidents these are: "in <#C…>" or "in every channel". */
  scope: string;
}

/** Room for the header, the counts, the resolved list and the footer. */
const OPEN_BLOCKS = 40;
const SECTION_BUDGET = LIMITS.sectionText - 100;

/** Most urgent first: sev1 … sev4, then unset; within one severity the oldest first. */
export function handoffOrder(incidents: readonly IncidentRecord[]): IncidentRecord[] {
  const rank = (i: IncidentRecord) => (i.severity ? SEVERITIES.indexOf(i.severity) : SEVERITIES.length);
  return [...incidents].sort((a, b) => rank(a) - rank(b) || Date.parse(a.createdAt) - Date.parse(b.createdAt));
}

/**
 * `/triage handoff`: every incident not yet resolved (state, severity, owner, age, last activity,
 * what runs or waits, a link to its thread) and what was resolved since `since`. Lines are packed
 * several to a section; what does not fit 50 blocks is counted here and listed in full in the
 * attached handoff file (handoffText). Pure.
 */
export function handoffMessage(view: HandoffView): SlackMessage & { complete: boolean } {
  const drawn = handoffBlocks(view, { maxBlocks: LIMITS.blocksPerMessage, openBlocks: OPEN_BLOCKS });
  return { text: handoffTitle(view), blocks: drawn.blocks, complete: drawn.complete };
}

/** The App Home tab: the same handoff (home views take up to 100 blocks). Pure. */
export function homeView(view: HandoffView): { type: 'home'; blocks: Block[] } {
  const { blocks } = handoffBlocks(view, { maxBlocks: 99, openBlocks: 80 });
  blocks.push(context('`/triage handoff` posts this in a channel, with the full list attached · `/triage help` lists every command'));
  return { type: 'home', blocks };
}

export function handoffTitle(view: HandoffView): string {
  return `Handoff ${view.scope.replace(/<#([A-Z0-9]+)>/g, '#$1')}: ${view.open.length} open, ${view.resolved.length} resolved since ${clock(view.since)}`;
}

function handoffBlocks(view: HandoffView, room: { maxBlocks: number; openBlocks: number }): { blocks: Block[]; complete: boolean } {
  const blocks: Block[] = [header(truncate(`Handoff: ${view.open.length} open · ${view.resolved.length} resolved since ${clock(view.since)}`, LIMITS.headerText))];
  blocks.push(context(`Incidents ${view.scope} · ${countsLine(view.open)} · as of ${clock(view.now)}`));
  if (!view.open.length) blocks.push(section(':sunny: No open incidents. Nothing to hand off.'));
  const ordered = handoffOrder(view.open);
  const packed = pack(ordered.map((i) => incidentLine(i, view.now)), room.openBlocks);
  blocks.push(...packed.sections.map(section));
  const left = ordered.length - packed.used;
  let complete = left === 0;
  if (left > 0) blocks.push(context(`_${left} more open incident${left === 1 ? '' : 's'} not shown here (least urgent last); the attached handoff file lists every one, and \`/triage status <incident>\` shows any one_`));
  if (view.resolved.length) {
    const resolved = pack([...view.resolved].reverse().map((i) => resolvedLine(i)), Math.max(1, room.maxBlocks - blocks.length - 3));
    blocks.push(section(`*Resolved since ${clock(view.since)}*`), ...resolved.sections.map(section));
    const more = view.resolved.length - resolved.used;
    if (more > 0) blocks.push(context(`_${more} more resolved; see the attached handoff file_`));
    if (more > 0) complete = false;
  } else {
    blocks.push(context(`Nothing resolved since ${clock(view.since)}.`));
  }
  if (blocks.length > room.maxBlocks) complete = false;
  return { blocks: blocks.slice(0, room.maxBlocks), complete };
}

/** Lines packed into as few sections as fit, at most `maxSections`; `used` counts the lines placed. */
function pack(lines: readonly string[], maxSections: number): { sections: string[]; used: number } {
  const sections: string[] = [];
  let current = '';
  let inCurrent = 0;
  let used = 0;
  for (const line of lines) {
    const piece = truncate(line, SECTION_BUDGET);
    if (current && current.length + 1 + piece.length > SECTION_BUDGET) {
      sections.push(current);
      used += inCurrent;
      current = '';
      inCurrent = 0;
      if (sections.length >= maxSections) return { sections, used };
    }
    current = current ? `${current}\n${piece}` : piece;
    inCurrent++;
  }
  if (current && sections.length < maxSections) {
    sections.push(current);
    used += inCurrent;
  }
  return { sections, used };
}

function countsLine(open: readonly IncidentRecord[]): string {
  const byState = new Map<string, number>();
  const bySeverity = new Map<string, number>();
  for (const i of open) {
    byState.set(i.status, (byState.get(i.status) ?? 0) + 1);
    const sev = i.severity ?? 'no severity';
    bySeverity.set(sev, (bySeverity.get(sev) ?? 0) + 1);
  }
  const fmt = (m: Map<string, number>) => [...m.entries()].map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  return `${fmt(byState)} · ${fmt(bySeverity)}`;
}

/** Two lines per incident: who and how urgent, then what runs or waits. */
export function incidentLine(incident: IncidentRecord, now: Date): string {
  const l = slackLine;
  const sev = incident.severity ? `*${incident.severity.toUpperCase()}* · ` : '';
  const owner = incident.owner ? `owner ${userMention(incident.owner)}` : '_no owner_';
  const thread = incident.permalink ? ` · ${slackLink(incident.permalink, 'thread')}` : '';
  return [
    `${STATE_ICON[incident.status]} *${l(incident.id)}* · ${sev}${incident.status} · *${l(incident.server)}* (\`${slackCode(incident.host)}\`) · ${channelMention(incident.channel)} · ${owner} · age ${age(incident.createdAt, now)} · last activity ${age(incident.updatedAt, now)} ago${thread}`,
    `↳ ${l(truncate(whereItStands(incident), 300))}`,
  ].join('\n');
}

function resolvedLine(incident: IncidentRecord): string {
  const by = incident.resolvedBy ? ` by ${userMention(incident.resolvedBy)}` : '';
  const at = incident.resolvedAt ? ` at ${clock(new Date(incident.resolvedAt))}` : '';
  const thread = incident.permalink ? ` · ${slackLink(incident.permalink, 'thread')}` : '';
  return `${STATE_ICON.resolved} *${slackLine(incident.id)}* · *${slackLine(incident.server)}*${by}${at}: ${slackLine(truncate(incident.resolveReason ?? 'no reason given', 200))}${thread}`;
}

export function age(iso: string, now: Date): string {
  const minutes = Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d`;
}

function clock(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

/**
 * The handoff as a plain-text file (attached to `/triage handoff`): every open incident and every
 * one resolved in the shift, however many. Evidence values are one line each, controls visible. Pure.
 */
export function handoffText(view: HandoffView): string {
  const t = oneLine;
  const lines = [`${handoffTitle(view)} (as of ${clock(view.now)})`, '', `Open (${view.open.length}), most urgent first:`];
  for (const i of handoffOrder(view.open)) {
    lines.push(
      `- ${t(i.id)} | ${i.severity ?? 'no severity'} | ${i.status} | ${t(i.server)} on ${t(i.host)} | channel ${t(i.channel)} | owner ${t(i.owner ?? 'none')} | age ${age(i.createdAt, view.now)} | last activity ${age(i.updatedAt, view.now)} ago | ${t(whereItStands(i))}${i.permalink ? ` | ${t(i.permalink)}` : ''}`,
    );
  }
  lines.push('', `Resolved since ${clock(view.since)} (${view.resolved.length}):`);
  for (const i of view.resolved) lines.push(`- ${t(i.id)} | ${t(i.server)} | by ${t(i.resolvedBy ?? 'unknown')} at ${t(i.resolvedAt ?? '?')} | ${t(i.resolveReason ?? 'no reason given')}`);
  return `${lines.join('\n')}\n`;
}
