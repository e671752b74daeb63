import type { App } from '@slack/bolt';
import { handoffView, DEFAULT_SHIFT_MS } from '../../commands/handoff.js';
import { homeView } from '../../templates/handoff-blocks.js';
import type { DispatchDeps } from './dispatcher.js';

/**
 * The App Home tab: the handoff of the incidents this user can see (their channels' incidents, or
 * every one when access.incidentScope is 'workspace'), published on each app_home_opened.
 */
export function registerAppHome(app: App, deps: DispatchDeps): void {
  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    const user = event.user;
    try {
      let channels: string[] | undefined;
      if (deps.access.incidentScope !== 'workspace') {
        const mine = await deps.poster.userChannels(user);
        channels = mine.ok ? mine.value.filter((c) => deps.access.channelAllowed(c)) : [];
      }
      const view = await handoffView(deps, { ...(channels ? { channels } : {}), sinceMs: DEFAULT_SHIFT_MS });
      const published = await deps.poster.publishHome(user, homeView(view));
      deps.metrics.commands.inc({ command: 'event:app_home_opened', outcome: published.ok ? 'ok' : 'error' });
    } catch (err) {
      deps.logger.warn('App Home not published', { user, err });
      deps.metrics.commands.inc({ command: 'event:app_home_opened', outcome: 'error' });
    }
  });
}
