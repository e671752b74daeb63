import { echo } from '../templates/sanitize.js';
import type { SlashCommand } from '../src/slack/command-types.js';
import { unknownFlags } from '../src/slack/parse.js';
import { incidentFor, isResult, usage } from '../src/slack/replies.js';
import { incidentStatusMessage } from '../templates/blocks-incident.js';

/** `/triage status [incident]`: one incident in full; by default the newest in this channel. */
export const status: SlashCommand = {
  name: 'status',
  usage: '/triage status [incident]',
  summary: 'where one incident stands (default: the newest in this channel)',
  check(inv, deps) {
    if (inv.args.length > 1) return usage(deps, 'status', 'At most one incident id.');
    const flags = unknownFlags(inv, []);
    return flags.length ? usage(deps, 'status', `Unknown option --${echo(flags[0] ?? '', 40)}.`) : null;
  },
  async run(inv, deps) {
    const incident = await incidentFor(inv, deps, inv.args[0]);
    if (isResult(incident)) return incident;
    return { outcome: 'ok', incidentId: incident.id, reply: { message: incidentStatusMessage(incident, deps.now()), visibility: 'ephemeral' } };
  },
};
