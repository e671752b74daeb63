import { ACTIONS } from '../../../templates/blocks.js';
import { ephemeral } from '../replies.js';
import { startedReply } from '../start-reply.js';
import type { ButtonAction } from './types.js';

/** "Replay": the same as `/triage replay <incident>`, intrusive, so access-checked. */
export const replayAction: ButtonAction = {
  name: 'replay',
  actionId: ACTIONS.replay,
  async run({ incident, user, channel }, deps) {
    const decision = await deps.access.mayRunIntrusive(user);
    if (!decision.allowed) return ephemeral(`:no_entry: Replay is intrusive and you may not start it: ${decision.reason}.`, 'forbidden', { detail: decision.reason, incidentId: incident.id });
    return startedReply(await deps.incidents.runOn(incident, 'replay', { user, channel }), 'replay');
  },
};
