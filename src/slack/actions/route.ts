import { ACTIONS } from '../../../templates/blocks.js';
import { startedReply } from '../start-reply.js';
import { incidentOf, type ButtonAction } from './types.js';

/** "Route again": re-classify the incident folder (read-only). */
export const routeAction: ButtonAction = {
  name: 'route',
  actionId: ACTIONS.route,
  async run(ctx, deps) {
    return startedReply(await deps.incidents.runOn(incidentOf(ctx), 'route', { user: ctx.user, channel: ctx.channel }), 'route');
  },
};
