import type { App } from '@slack/bolt';
import { z } from 'zod';
import { RESOLVE_MODAL } from '../../templates/blocks.js';
import { REASON_MAX } from '../../templates/button-value.js';
import { noteMessage } from '../../templates/blocks.js';
import type { DispatchDeps } from './dispatcher.js';
import { gate, incidentFor } from './replies.js';

const metadataSchema = z.object({ i: z.string().max(200), c: z.string().max(40) });

/**
 * The resolve-reason modal's submission: gated again (the modal could have been opened by someone
 * who lost access since), then resolved once. A reason that is too short is refused in the modal
 * itself (response_action errors), so nothing is lost.
 */
export function registerResolveModal(app: App, deps: DispatchDeps): void {
  app.view(RESOLVE_MODAL, async ({ ack, body, view }) => {
    const user = body.user.id;
    const meta = metadataSchema.safeParse(safeJson(view.private_metadata));
    const reason = (view.state.values.reason?.reason?.value ?? '').trim().slice(0, REASON_MAX);
    if (reason.length < 3) {
      await ack({ response_action: 'errors', errors: { reason: 'Say in a few words why it is resolved.' } });
      return;
    }
    await ack();
    if (!meta.success) return;
    const { i: id, c: channel } = meta.data;
    let outcome = 'ok';
    let text: string;
    const incident = deps.access.channelAllowed(channel) ? await incidentFor({ channel }, deps, id) : null;
    const refused = await gate(deps, user, 'Resolving an incident is restricted', id);
    if (!incident || 'outcome' in incident) {
      outcome = 'not-found';
      text = incident && 'outcome' in incident ? (incident.reply?.message.text ?? 'No such incident.') : 'The triage bot is not enabled in that channel.';
    } else if (refused) {
      outcome = 'forbidden';
      text = refused.reply?.message.text ?? 'Not allowed.';
    } else {
      const done = await deps.incidents.resolve(incident, { user, channel }, reason);
      outcome = done.kind === 'changed' ? 'ok' : 'resolved';
      text = done.kind === 'changed' ? `Marked \`${incident.id}\` resolved.` : `\`${incident.id}\` is already resolved.`;
    }
    await deps.poster.ephemeral(channel, user, noteMessage(text));
    deps.metrics.commands.inc({ command: 'view:resolve', outcome });
    await deps.audit.record({ at: deps.now().toISOString(), command: 'view:resolve', user, channel, args: reason.slice(0, 500), outcome, incidentId: id });
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
