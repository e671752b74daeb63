import { ACTIONS } from '../../../templates/blocks.js';
import { resolveReasonModal } from '../../../templates/confirm-blocks.js';
import { ephemeral, gate } from '../replies.js';
import { incidentOf, type ButtonAction } from './types.js';

/**
 * "Mark resolved" (behind a confirm dialog): gated by access; an allowed user is asked for the
 * reason in a modal, and the modal's submission resolves (src/slack/resolve-modal.ts).
 */
export const resolveAction: ButtonAction = {
  name: 'resolve',
  actionId: ACTIONS.resolve,
  async run(ctx, deps) {
    const incident = incidentOf(ctx);
    if (incident.status === 'resolved') return ephemeral(`\`${incident.id}\` is already resolved.`, 'resolved', { incidentId: incident.id });
    const refused = await gate(deps, ctx.user, 'Resolving an incident is restricted', incident.id);
    if (refused) return refused;
    const opened = ctx.triggerId ? await deps.poster.openView(ctx.triggerId, resolveReasonModal(incident.id, ctx.channel)) : { ok: false as const, error: 'no trigger_id' };
    if (opened.ok) return { outcome: 'ok', incidentId: incident.id, detail: 'reason asked' };
    return ephemeral(`Could not ask for the reason (${opened.error}). Resolve with \`/triage resolve ${incident.id} <reason>\`.`, 'error', { incidentId: incident.id, detail: opened.error });
  },
};

/** The confirm button of `/triage resolve <incident> <reason>`: the reason rides in the button. */
export const confirmResolveAction: ButtonAction = {
  name: 'confirm-resolve',
  actionId: ACTIONS.confirmResolve,
  replacesPrompt: true,
  async run(ctx, deps) {
    const incident = incidentOf(ctx);
    const refused = await gate(deps, ctx.user, 'Resolving an incident is restricted', incident.id);
    if (refused) return refused;
    const reason = ctx.value.r?.trim();
    if (!reason) return ephemeral('That button carries no reason; use `/triage resolve <incident> <reason>`.', 'usage', { incidentId: incident.id });
    const done = await deps.incidents.resolve(incident, { user: ctx.user, channel: ctx.channel }, reason);
    if (done.kind === 'refused') return ephemeral(`\`${incident.id}\` is already resolved.`, 'resolved', { incidentId: incident.id });
    return ephemeral(`Marked \`${incident.id}\` resolved.`, 'ok', { incidentId: incident.id });
  },
};
