import { findServer } from '../src/config/servers.js';
import type { SlashCommand } from '../src/slack/command-types.js';
import { unknownFlags } from '../src/slack/parse.js';
import { ephemeral, incidentFor, isResult, unknownServer, usage } from '../src/slack/replies.js';
import { startedReply } from '../src/slack/start-reply.js';

/**
 * `/triage replay [incident] [--target <server>]`: replay the saved request or crash dump on a
 * clean target. Intrusive: only access.intrusiveUsers / intrusiveGroups may run it.
 */
export const replay: SlashCommand = {
  name: 'replay',
  usage: '/triage replay [incident] [--target <server>]',
  summary: 'replay the saved request on a clean target (intrusive)',
  check(inv, deps) {
    if (inv.args.length > 1) return usage(deps, 'replay', 'At most one incident id.');
    const flags = unknownFlags(inv, ['target']);
    if (flags.length) return usage(deps, 'replay', `Unknown option --${flags[0]}.`);
    const target = inv.flags.target;
    if (target === true) return usage(deps, 'replay', '--target needs a registered server name.');
    if (target !== undefined && !findServer(deps.registry, target)) return unknownServer(deps.registry, target);
    return null;
  },
  async run(inv, deps) {
    const decision = await deps.access.mayRunIntrusive(inv.user);
    if (!decision.allowed) return ephemeral(`:no_entry: Replay is intrusive and you may not start it: ${decision.reason}.`, 'forbidden', { detail: decision.reason });
    const incident = await incidentFor(inv, deps, inv.args[0]);
    if (isResult(incident)) return incident;
    const target = typeof inv.flags.target === 'string' ? inv.flags.target : undefined;
    const outcome = await deps.incidents.runOn(incident, 'replay', { user: inv.user, channel: inv.channel }, target ? { target } : {});
    return startedReply(outcome, 'replay');
  },
};
