import type { SlashCommand } from '../src/slack/command-types.js';
import { unknownFlags } from '../src/slack/parse.js';
import { ephemeral, incidentFor, isResult, usage } from '../src/slack/replies.js';

/** `/triage own [incident]`: you own it now (an open incident moves to investigating). */
export const own: SlashCommand = {
  name: 'own',
  usage: '/triage own [incident]',
  summary: 'take ownership (default: the newest incident in this channel); open → investigating',
  check(inv, deps) {
    if (inv.args.length > 1) return usage(deps, 'own', 'At most one incident id.');
    return unknownFlags(inv, []).length ? usage(deps, 'own', 'Own takes no options.') : null;
  },
  async run(inv, deps) {
    const incident = await incidentFor(inv, deps, inv.args[0]);
    if (isResult(incident)) return incident;
    if (incident.status === 'resolved') return ephemeral(`\`${incident.id}\` is resolved.`, 'resolved', { incidentId: incident.id });
    const now = await deps.incidents.own(incident, { user: inv.user, channel: inv.channel });
    return ephemeral(`You own \`${incident.id}\` now (${now.status}).`, 'ok', { incidentId: incident.id });
  },
};
