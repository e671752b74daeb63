import type { SlashCommand } from '../src/slack/command-types.js';
import { ephemeral, incidentFor, isIncidentId, isResult, restText, usage } from '../src/slack/replies.js';
import { echo } from '../templates/sanitize.js';

const STATES = ['investigating', 'mitigated'] as const;
type MovableState = (typeof STATES)[number];
const isState = (v: string | undefined): v is MovableState => (STATES as readonly string[]).includes(v ?? '');

/**
 * `/triage state <investigating|mitigated> [incident] [note…]`: move an incident along its
 * lifecycle (resolve has its own gated command). The note goes on the timeline and the thread.
 */
export const state: SlashCommand = {
  name: 'state',
  usage: '/triage state <investigating|mitigated> [incident] [note…]',
  summary: 'move an incident to investigating or mitigated, with an optional note',
  check(inv, deps) {
    if (!isState(inv.args[0]?.toLowerCase())) return usage(deps, 'state', inv.args[0] ? `\`${echo(inv.args[0])}\` is not a state you can set here (investigating, mitigated; resolve with \`/triage resolve\`).` : 'Which state?');
    return null;
  },
  async run(inv, deps) {
    const target = (inv.args[0] as string).toLowerCase() as MovableState;
    const id = inv.args[1] && isIncidentId(inv.args[1]) ? inv.args[1] : undefined;
    const note = restText(inv, id ? 2 : 1);
    const incident = await incidentFor(inv, deps, id);
    if (isResult(incident)) return incident;
    const moved = await deps.incidents.moveTo(incident, target, { user: inv.user, channel: inv.channel }, note ? note.slice(0, 500) : undefined);
    if (moved.kind === 'refused') return ephemeral(`\`${incident.id}\` is ${moved.from ?? 'gone'}; it cannot move to ${target}.`, moved.from === 'resolved' ? 'resolved' : 'usage', { incidentId: incident.id });
    return ephemeral(`\`${incident.id}\`: ${moved.from} → *${target}*.`, 'ok', { incidentId: incident.id });
  },
};
