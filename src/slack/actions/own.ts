import { ACTIONS } from '../../../templates/blocks.js';
import { ephemeral } from '../replies.js';
import { incidentOf, type ButtonAction } from './types.js';

/** "Take ownership" on the root message: the same as `/triage own <incident>`. */
export const ownAction: ButtonAction = {
  name: 'own',
  actionId: ACTIONS.own,
  async run(ctx, deps) {
    const incident = incidentOf(ctx);
    if (incident.status === 'resolved') return ephemeral(`\`${incident.id}\` is resolved.`, 'resolved', { incidentId: incident.id });
    if (incident.owner === ctx.user) return ephemeral(`You already own \`${incident.id}\`.`, 'ok', { incidentId: incident.id });
    const now = await deps.incidents.own(incident, { user: ctx.user, channel: ctx.channel });
    return ephemeral(`You own \`${incident.id}\` now (${now.status}).`, 'ok', { incidentId: incident.id });
  },
};
