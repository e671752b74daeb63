import type { CommandDeps, SlashCommand } from '../src/slack/command-types.js';
import { unknownFlags } from '../src/slack/parse.js';
import { usage } from '../src/slack/replies.js';
import { handoffMessage, handoffText, type HandoffView } from '../templates/handoff-blocks.js';
import { echo } from '../templates/sanitize.js';

/** The last shift, when `--since` is not given. */
export const DEFAULT_SHIFT_MS = 12 * 3600_000;

/**
 * `/triage handoff [--since 12h]`: every incident not yet resolved (state, severity, owner, age,
 * last activity, what runs or waits, its thread) and what was resolved since the shift began.
 * The whole store is read page by page; what does not fit one message is in the attached file.
 */
export const handoff: SlashCommand = {
  name: 'handoff',
  usage: '/triage handoff [--since 12h]',
  summary: 'every open incident and where it stands, and what the last shift resolved (posted in the channel)',
  check(inv, deps) {
    if (inv.args.length) return usage(deps, 'handoff', 'Handoff takes no arguments.');
    const flags = unknownFlags(inv, ['since']);
    if (flags.length) return usage(deps, 'handoff', `Unknown option --${echo(flags[0] ?? '', 40)}.`);
    return inv.flags.since !== undefined && sinceMs(inv.flags.since) === null ? usage(deps, 'handoff', '--since takes a duration such as 90m, 8h or 1d.') : null;
  },
  async run(inv, deps) {
    const view = await handoffView(deps, { channel: inv.channel, sinceMs: sinceMs(inv.flags.since ?? '12h') ?? DEFAULT_SHIFT_MS });
    const message = handoffMessage(view);
    if (!message.complete) {
      const uploaded = await deps.poster.upload(inv.channel, undefined, { filename: `handoff-${deps.now().toISOString().slice(0, 16).replace(/[:T]/g, '')}.txt`, title: message.text, content: handoffText(view) });
      if (!uploaded.ok) message.blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `_The full list could not be attached (${echo(uploaded.error)})._` }] });
    }
    return { outcome: 'ok', reply: { message: { text: message.text, blocks: message.blocks }, visibility: 'in_channel' } };
  },
};

/**
 * The handoff of what `channel` may see (its own incidents, or every one when access.incidentScope
 * is 'workspace'); `channels` instead: the incidents of those channels (App Home, per user).
 */
export async function handoffView(deps: CommandDeps, where: { channel?: string; channels?: readonly string[]; sinceMs: number }): Promise<HandoffView> {
  const now = deps.now();
  const since = new Date(now.getTime() - where.sinceMs);
  const [open, resolved] = await Promise.all([deps.store.listActive(), deps.store.listResolvedSince(since)]);
  const workspace = deps.access.incidentScope === 'workspace';
  const allowed = where.channels ? new Set(where.channels) : null;
  const visible = (i: { channel: string }) => workspace || (allowed ? allowed.has(i.channel) : i.channel === where.channel);
  const scope = workspace ? 'in every channel' : allowed ? 'in your channels' : `in <#${where.channel}>`;
  return { open: open.filter(visible), resolved: resolved.filter(visible), since, now, scope };
}

/** "90m", "8h", "1d" → milliseconds (at most 30 days); anything else → null. */
export function sinceMs(value: string | true): number | null {
  if (value === true) return null;
  const m = /^(\d{1,4})([mhd])$/.exec(value.trim());
  if (!m) return null;
  const ms = Number(m[1]) * { m: 60_000, h: 3600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
  return ms > 0 && ms <= 30 * 86_400_000 ? ms : null;
}
