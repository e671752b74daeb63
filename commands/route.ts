import { echo } from '../templates/sanitize.js';
import type { SlashCommand } from '../src/slack/command-types.js';
import { unknownFlags } from '../src/slack/parse.js';
import { incidentFor, isResult, usage } from '../src/slack/replies.js';
import { startedReply } from '../src/slack/start-reply.js';

/** `/triage route [incident]`: classify the evidence already in the incident folder again. Read-only. */
export const route: SlashCommand = {
  name: 'route',
  usage: '/triage route [incident]',
  summary: 'classify the incident folder again and name the next skill',
  check(inv, deps) {
    if (inv.args.length > 1) return usage(deps, 'route', 'At most one incident id.');
    const flags = unknownFlags(inv, []);
    return flags.length ? usage(deps, 'route', `Unknown option --${echo(flags[0] ?? '', 40)}.`) : null;
  },
  async run(inv, deps) {
    const incident = await incidentFor(inv, deps, inv.args[0]);
    if (isResult(incident)) return incident;
    return startedReply(await deps.incidents.runOn(incident, 'route', { user: inv.user, channel: inv.channel }), 'route');
  },
};
