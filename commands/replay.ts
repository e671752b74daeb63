import { findServer } from '../src/config/servers.js';
import type { SlashCommand } from '../src/slack/command-types.js';
import { unknownFlags } from '../src/slack/parse.js';
import { gate, incidentFor, isResult, unknownServer, usage } from '../src/slack/replies.js';
import { echo } from '../templates/sanitize.js';
import { confirmRun } from './run.js';

/**
 * `/triage replay [incident] [--target <server>]`: replay the saved request or crash dump on a
 * clean target. Intrusive: only access.intrusiveUsers / intrusiveGroups may run it, and it starts
 * only once its confirm button is pressed.
 */
export const replay: SlashCommand = {
  name: 'replay',
  usage: '/triage replay [incident] [--target <server>]',
  summary: 'replay the saved request on a clean target (intrusive)',
  check(inv, deps) {
    if (inv.args.length > 1) return usage(deps, 'replay', 'At most one incident id.');
    const flags = unknownFlags(inv, ['target']);
    if (flags.length) return usage(deps, 'replay', `Unknown option --${echo(flags[0] ?? '', 40)}.`);
    const target = inv.flags.target;
    if (target === true) return usage(deps, 'replay', '--target needs a registered server name.');
    if (target !== undefined && !findServer(deps.registry, target)) return unknownServer(deps.registry, target);
    return null;
  },
  async run(inv, deps) {
    const refused = await gate(deps, inv.user, 'Replay is intrusive');
    if (refused) return refused;
    const incident = await incidentFor(inv, deps, inv.args[0]);
    if (isResult(incident)) return incident;
    const target = typeof inv.flags.target === 'string' ? inv.flags.target : undefined;
    return confirmRun({ pipeline: 'replay', server: incident.server, incidentId: incident.id, opts: target ? { target } : {} });
  },
};
