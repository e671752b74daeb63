import type { IncidentStore } from '../incident/store.js';
import type { Logger } from '../pipelines/types.js';
import { rootMessage } from '../../templates/root-blocks.js';
import type { SlackPoster } from './poster.js';
import { UpdateThrottle } from './throttle.js';

interface RootTarget {
  id: string;
  channel: string;
  ts: string;
}

/**
 * Keeps each incident's channel message current (chat.update in place). Redraws are coalesced per
 * message and rendered from the store when they are sent, so a burst of changes costs one call
 * and the newest state always wins.
 */
export class RootMessages {
  private readonly throttle: UpdateThrottle<RootTarget>;

  constructor(deps: { store: IncidentStore; poster: SlackPoster; logger: Logger; intervalMs: number }) {
    this.throttle = new UpdateThrottle<RootTarget>({
      intervalMs: deps.intervalMs,
      send: async (_key, target) => {
        const incident = await deps.store.get(target.id, { timeline: false });
        if (!incident) return;
        const sent = await deps.poster.update(target.channel, target.ts, rootMessage(incident));
        if (!sent.ok) deps.logger.warn('root message not updated', { incidentId: target.id, error: sent.error });
      },
    });
  }

  /** Schedules a redraw; resolves once it was sent. */
  async refresh(incident: { id: string; channel: string; threadTs?: string | undefined }): Promise<void> {
    if (!incident.threadTs) return;
    const key = `${incident.channel}|${incident.threadTs}`;
    this.throttle.push(key, { id: incident.id, channel: incident.channel, ts: incident.threadTs });
    await this.throttle.flush(key);
  }

  drain(): Promise<void> {
    return this.throttle.drain();
  }
}
