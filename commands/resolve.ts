import type { SlashCommand } from '../src/slack/command-types.js';
import { ephemeral, gate, incidentFor, isIncidentId, isResult, restText, usage } from '../src/slack/replies.js';
import { ACTIONS } from '../templates/blocks.js';
import { REASON_MAX } from '../templates/button-value.js';
import { confirmPromptMessage } from '../templates/confirm-blocks.js';
import { slackCode, slackLine } from '../templates/sanitize.js';

/**
 * `/triage resolve [incident] <reason…>`: gated like intrusive steps, and confirmed: the answer
 * is a button behind a confirm dialog; the incident is resolved only when that is pressed.
 */
export const resolve: SlashCommand = {
  name: 'resolve',
  usage: '/triage resolve [incident] <reason…>',
  summary: 'resolve an incident with a reason (gated by access, confirmed)',
  check(inv, deps) {
    const id = inv.args[0] && isIncidentId(inv.args[0]) ? inv.args[0] : undefined;
    const reason = restText(inv, id ? 1 : 0);
    if (reason.length < 3) return usage(deps, 'resolve', 'Say why it is resolved: `/triage resolve [incident] <reason>`.');
    return null;
  },
  async run(inv, deps) {
    const id = inv.args[0] && isIncidentId(inv.args[0]) ? inv.args[0] : undefined;
    const reason = restText(inv, id ? 1 : 0).slice(0, REASON_MAX);
    const incident = await incidentFor(inv, deps, id);
    if (isResult(incident)) return incident;
    if (incident.status === 'resolved') return ephemeral(`\`${incident.id}\` is already resolved.`, 'resolved', { incidentId: incident.id });
    const refused = await gate(deps, inv.user, 'Resolving an incident is restricted', incident.id);
    if (refused) return refused;
    return {
      outcome: 'ok',
      incidentId: incident.id,
      detail: 'confirm asked',
      reply: {
        visibility: 'ephemeral',
        message: confirmPromptMessage({
          text: `Resolve \`${slackCode(incident.id)}\` (*${slackLine(incident.server)}*, ${incident.status}) with the reason: ${slackLine(reason)}`,
          label: `Resolve ${incident.id}`,
          actionId: ACTIONS.confirmResolve,
          value: { i: incident.id, r: reason },
          dialog: { title: 'Resolve this incident?', text: `Closes \`${slackCode(incident.id)}\` for everyone.`, confirm: 'Resolve' },
          danger: true,
        }),
      },
    };
  },
};
