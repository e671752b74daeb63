import { ACTIONS } from '../../../templates/blocks.js';
import { ephemeral } from '../replies.js';
import type { ButtonAction } from './types.js';

/** "Mark resolved": closes the incident in Redis, the thread and (through its queue) the host's incident.json. */
export const resolveAction: ButtonAction = {
  name: 'resolve',
  actionId: ACTIONS.resolve,
  async run({ incident, user, channel }, deps) {
    if (incident.status === 'resolved') return ephemeral(`\`${incident.id}\` is already resolved.`, 'resolved', { incidentId: incident.id });
    await deps.incidents.resolve(incident, { user, channel });
    return ephemeral(`Marked \`${incident.id}\` resolved.`, 'ok', { incidentId: incident.id });
  },
};
