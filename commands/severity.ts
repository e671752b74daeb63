import { SEVERITIES, type Severity } from '../src/incident/types.js';
import type { SlashCommand } from '../src/slack/command-types.js';
import { unknownFlags } from '../src/slack/parse.js';
import { ephemeral, incidentFor, isResult, usage } from '../src/slack/replies.js';

const isSeverity = (v: string): v is Severity => (SEVERITIES as readonly string[]).includes(v.toLowerCase());

/** `/triage severity <sev1..sev4> [incident]`: how urgent; handoff lists the most urgent first. */
export const severity: SlashCommand = {
  name: 'severity',
  usage: `/triage severity <${SEVERITIES.join('|')}> [incident]`,
  summary: 'set the severity (sev1 is the most urgent)',
  check(inv, deps) {
    if (unknownFlags(inv, []).length) return usage(deps, 'severity', 'Severity takes no options.');
    const sevs = inv.args.filter(isSeverity);
    if (sevs.length !== 1) return usage(deps, 'severity', `Name one of ${SEVERITIES.join(', ')}.`);
    if (inv.args.length > 2) return usage(deps, 'severity', 'A severity and at most one incident id.');
    return null;
  },
  async run(inv, deps) {
    const level = (inv.args.find(isSeverity) as string).toLowerCase() as Severity;
    const incident = await incidentFor(inv, deps, inv.args.find((a) => !isSeverity(a)));
    if (isResult(incident)) return incident;
    if (incident.status === 'resolved') return ephemeral(`\`${incident.id}\` is resolved.`, 'resolved', { incidentId: incident.id });
    await deps.incidents.setSeverity(incident, level, { user: inv.user, channel: inv.channel });
    return ephemeral(`\`${incident.id}\` is *${level.toUpperCase()}* now.`, 'ok', { incidentId: incident.id });
  },
};
