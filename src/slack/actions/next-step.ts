import type { PipelineName } from '../../pipelines/types.js';
import type { Skill } from '../../contracts/report.js';
import { evidenceFingerprint } from '../../incident/lifecycle.js';
import { INTRUSIVE_PIPELINES, PIPELINE_FOR_SKILL } from '../../pipelines/catalog.js';
import { ACTIONS } from '../../../templates/blocks.js';
import { slackCodeBlock, slackLine } from '../../../templates/sanitize.js';
import { ephemeral, gate } from '../replies.js';
import { startedReply } from '../start-reply.js';
import { incidentOf, type ButtonAction } from './types.js';

/** Which pipeline carries out a report's next skill: the catalog's mapping. */
export const NEXT_PIPELINE: Readonly<Record<Skill, PipelineName | null>> = PIPELINE_FOR_SKILL;

/**
 * "Run next step": start the pipeline the report routed to, once. When that pipeline already
 * produced the verdict shown (same evidence fingerprint), running it again would loop, so the
 * answer says so instead. Intrusive pipelines are gated (the button had a confirm dialog).
 */
export const nextStepAction: ButtonAction = {
  name: 'next-step',
  actionId: ACTIONS.nextStep,
  async run(ctx, deps) {
    const incident = incidentOf(ctx);
    const report = incident.report;
    if (!report) return ephemeral(`\`${incident.id}\` has no verdict yet; wait for the summary or run \`/triage route ${incident.id}\`.`, 'not-found', { incidentId: incident.id });
    const pipeline = NEXT_PIPELINE[report.nextStep.skill];
    if (!pipeline) {
      const commands = report.nextStep.commands.length ? `\n\`\`\`${report.nextStep.commands.map(slackCodeBlock).join('\n')}\`\`\`` : '';
      return ephemeral(`\`${report.nextStep.skill}\` is run by a person: ${slackLine(report.nextStep.why)}${commands}`, 'ok', { incidentId: incident.id });
    }
    if (incident.ranOn?.[pipeline] === evidenceFingerprint(report)) {
      return ephemeral(`*${pipeline}* already ran on this evidence and gave the verdict shown; running it again would give the same. Capture again (\`/triage capture ${incident.server}\`) for new evidence, or \`/triage run ${pipeline} ${incident.server} --incident ${incident.id}\` to run it anyway.`, 'ok', { incidentId: incident.id, detail: 'already ran on this evidence' });
    }
    if (INTRUSIVE_PIPELINES.has(pipeline)) {
      const refused = await gate(deps, ctx.user, `${pipeline} is intrusive`, incident.id);
      if (refused) return refused;
    }
    return startedReply(await deps.incidents.runOn(incident, pipeline, { user: ctx.user, channel: ctx.channel }), pipeline);
  },
};
