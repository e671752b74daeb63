import { findServer } from '../src/config/servers.js';
import { userMention } from '../templates/blocks-kit.js';
import { echo } from '../templates/sanitize.js';
import type { SlashCommand } from '../src/slack/command-types.js';
import { unknownFlags } from '../src/slack/parse.js';
import { ephemeral, unknownServer, usage } from '../src/slack/replies.js';

/**
 * `/triage capture <server>`: keep the scene. A read-only bundle of a REGISTERED server (never a
 * URL typed into Slack), routed; the summary arrives in the incident's thread. Not intrusive.
 */
export const capture: SlashCommand = {
  name: 'capture',
  usage: '/triage capture <server>',
  summary: 'keep the scene: a read-only bundle of a registered server, then route it',
  check(inv, deps) {
    if (inv.args.length !== 1) return usage(deps, 'capture', inv.args.length ? 'Name one server.' : 'Which server?');
    const flags = unknownFlags(inv, []);
    if (flags.length) return usage(deps, 'capture', `Unknown option --${echo(flags[0] ?? '', 40)}.`);
    const name = inv.args[0] as string;
    if (/^[a-z]+:\/\//i.test(name)) return ephemeral('Capture takes a registered server name, not a URL. Add the server to servers.yaml first.', 'usage', { detail: 'url refused' });
    return findServer(deps.registry, name) ? null : unknownServer(deps.registry, name);
  },
  async run(inv, deps) {
    const server = findServer(deps.registry, inv.args[0] as string);
    if (!server) return unknownServer(deps.registry, inv.args[0] as string);
    const outcome = await deps.incidents.capture(server, { user: inv.user, channel: inv.channel });
    const incident = outcome.incident;
    if (outcome.kind === 'joined') {
      return ephemeral(`Joined open incident \`${incident.id}\` on *${server.name}* (started by ${userMention(incident.createdBy)}); its thread has the progress.`, 'joined', { incidentId: incident.id });
    }
    return ephemeral(`Started \`${incident.id}\`: capture on *${server.name}* (host \`${server.host}\`). Progress and the summary follow in the thread.`, 'started', { incidentId: incident.id });
  },
};
