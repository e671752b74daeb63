import { ACTIONS } from '../../../templates/blocks.js';
import { startedReply } from '../start-reply.js';
import type { ButtonAction } from './types.js';

/** "Route again": re-classify the incident folder (read-only). */
export const routeAction: ButtonAction = {
  name: 'route',
  actionId: ACTIONS.route,
  async run({ incident, user, channel }, deps) {
    return startedReply(await deps.incidents.runOn(incident, 'route', { user, channel }), 'route');
  },
};
