import { ACTIONS } from '../../../templates/blocks.js';
import { gate } from '../replies.js';
import { startedReply } from '../start-reply.js';
import { incidentOf, type ButtonAction } from './types.js';

/** "Replay" (behind a confirm dialog): the same as `/triage replay <incident>`, intrusive, so gated. */
export const replayAction: ButtonAction = {
  name: 'replay',
  actionId: ACTIONS.replay,
  async run(ctx, deps) {
    const incident = incidentOf(ctx);
    const refused = await gate(deps, ctx.user, 'Replay is intrusive', incident.id);
    if (refused) return refused;
    return startedReply(await deps.incidents.runOn(incident, 'replay', { user: ctx.user, channel: ctx.channel }), 'replay');
  },
};
