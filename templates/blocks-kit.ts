import type { types as slack } from '@slack/bolt';
import { slackLine } from './sanitize.js';

export type Block = slack.KnownBlock;
export type SectionBlock = slack.SectionBlock;
export type Button = slack.Button;

/** Slack's Block Kit limits (https://api.slack.com/reference/block-kit/blocks). Templates stay inside them. */
export const LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  headerText: 150,
  contextElements: 10,
  contextText: 3000,
  buttonText: 75,
  buttonValue: 2000,
  /** Fallback `text` of a message: kept short, it is what notifications show. */
  fallbackText: 3000,
} as const;

export { escapeMrkdwn } from './sanitize.js';

/** A Block Kit confirm dialog: Slack shows it before the press reaches the bot. */
export interface ConfirmDialog {
  title: string;
  text: string;
  confirm: string;
  deny?: string;
}

export function truncate(text: string, max: number, marker = '…'): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - marker.length))}${marker}`;
}

export function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) } };
}

export function header(text: string): Block {
  return { type: 'header', text: { type: 'plain_text', text: truncate(text, LIMITS.headerText), emoji: true } };
}

export function context(...texts: string[]): Block {
  return {
    type: 'context',
    elements: texts.slice(0, LIMITS.contextElements).map((t) => ({ type: 'mrkdwn' as const, text: truncate(t, LIMITS.contextText) })),
  };
}

export function divider(): Block {
  return { type: 'divider' };
}

export function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger', confirm?: ConfirmDialog): Button {
  return {
    type: 'button',
    text: { type: 'plain_text', text: truncate(text, LIMITS.buttonText), emoji: true },
    action_id: actionId,
    value: truncate(value, LIMITS.buttonValue),
    ...(style ? { style } : {}),
    ...(confirm ? { confirm: confirmObject(confirm, style === 'danger') } : {}),
  };
}

/** Slack's limits: title 100, text 300, button labels 30 characters (plain text). */
function confirmObject(dialog: ConfirmDialog, danger: boolean): NonNullable<Button['confirm']> {
  return {
    title: { type: 'plain_text', text: truncate(dialog.title, 100) },
    text: { type: 'mrkdwn', text: truncate(dialog.text, 300) },
    confirm: { type: 'plain_text', text: truncate(dialog.confirm, 30) },
    deny: { type: 'plain_text', text: truncate(dialog.deny ?? 'Cancel', 30) },
    ...(danger ? { style: 'danger' as const } : {}),
  };
}

/** A fenced code block that fits one section, cutting whole lines and saying so. */
export function codeSection(title: string, lines: readonly string[]): SectionBlock {
  const fence = '```';
  const budget = LIMITS.sectionText - title.length - fence.length * 2 - 40;
  const kept: string[] = [];
  let used = 0;
  for (const line of lines) {
    const cost = line.length + 1;
    if (used + cost > budget) break;
    kept.push(line);
    used += cost;
  }
  if (!kept.length && lines[0] !== undefined) kept.push(truncate(lines[0], budget));
  const more = lines.length - kept.length;
  const body = `${title}\n${fence}${kept.join('\n')}${fence}${more > 0 ? `\n_${more} more in the attached report_` : ''}`;
  return section(body);
}

/** Keeps a message at or under the block limit, saying how much was left out. */
export function capBlocks(blocks: Block[], what = 'blocks'): Block[] {
  if (blocks.length <= LIMITS.blocksPerMessage) return blocks;
  const kept = blocks.slice(0, LIMITS.blocksPerMessage - 1);
  return [...kept, context(`_${blocks.length - kept.length} more ${what} left out; see the attached report_`)];
}

/** Bullet list text cut to fit one section. */
export function bullets(items: readonly string[], max = LIMITS.sectionText): string {
  const lines: string[] = [];
  let used = 0;
  for (const [i, item] of items.entries()) {
    const line = `• ${item}`;
    if (used + line.length + 1 > max - 40) {
      lines.push(`_…and ${items.length - i} more_`);
      break;
    }
    lines.push(line);
    used += line.length + 1;
  }
  return lines.join('\n');
}

/** A user mention only for a real Slack user id; anything else (an alert source) is shown as text. */
export function userMention(id: string): string {
  return /^[UW][A-Z0-9]{2,}$/.test(id) ? `<@${id}>` : slackLine(id);
}

/** A channel link only for a real channel id. */
export function channelMention(id: string): string {
  return /^[CGD][A-Z0-9]{2,}$/.test(id) ? `<#${id}>` : slackLine(id);
}

/** A link whose URL came from Slack itself (a permalink); `|` and `>` cannot occur in those. */
export function slackLink(url: string, label: string): string {
  return /^https:\/\/[^\s|<>]+$/.test(url) ? `<${url}|${slackLine(label)}>` : slackLine(label);
}
