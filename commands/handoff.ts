import type { SlashCommand } from '../src/slack/command-types.js';
import { unknownFlags } from '../src/slack/parse.js';
import { usage } from '../src/slack/replies.js';
import { handoffMessage } from '../templates/handoff-blocks.js';

/** `/triage handoff`: every incident not yet resolved and where it stands, for the next person on call. */
export const handoff: SlashCommand = {
  name: 'handoff',
  usage: '/triage handoff',
  summary: 'every open incident and where it stands (posted in the channel)',
  check(inv, deps) {
    if (inv.args.length) return usage(deps, 'handoff', 'Handoff takes no arguments.');
    const flags = unknownFlags(inv, []);
    return flags.length ? usage(deps, 'handoff', `Unknown option --${flags[0]}.`) : null;
  },
  async run(_inv, deps) {
    const incidents = await deps.store.listActive(200);
    return { outcome: 'ok', reply: { message: handoffMessage(incidents, deps.now()), visibility: 'in_channel' } };
  },
};
