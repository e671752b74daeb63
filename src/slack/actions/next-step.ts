import type { PipelineName } from '../../pipelines/types.js';
import type { Skill } from '../../contracts/report.js';
import { INTRUSIVE_PIPELINES, PIPELINE_FOR_SKILL } from '../../pipelines/catalog.js';
import { ACTIONS } from '../../../templates/blocks.js';
import { ephemeral } from '../replies.js';
import { startedReply } from '../start-reply.js';
import type { ButtonAction } from './types.js';

/** Which pipeline carries out a report's next skill: the catalog's mapping. */
export const NEXT_PIPELINE: Readonly<Record<Skill, PipelineName | null>> = PIPELINE_FOR_SKILL;

/** "Run next step": start the pipeline the report routed to; intrusive ones are access-checked. */
export const nextStepAction: ButtonAction = {
  name: 'next-step',
  actionId: ACTIONS.nextStep,
  async run({ incident, user, channel }, deps) {
    const report = incident.report;
    if (!report) return ephemeral(`\`${incident.id}\` has no verdict yet; wait for the summary or run \`/triage route ${incident.id}\`.`, 'not-found', { incidentId: incident.id });
    const pipeline = NEXT_PIPELINE[report.nextStep.skill];
    if (!pipeline) {
      const commands = report.nextStep.commands.length ? `\n\`\`\`${report.nextStep.commands.join('\n')}\`\`\`` : '';
      return ephemeral(`\`${report.nextStep.skill}\` is run by a person: ${report.nextStep.why}${commands}`, 'ok', { incidentId: incident.id });
    }
    if (INTRUSIVE_PIPELINES.has(pipeline)) {
      const decision = await deps.access.mayRunIntrusive(user);
      if (!decision.allowed) return ephemeral(`:no_entry: ${pipeline} is intrusive and you may not start it: ${decision.reason}.`, 'forbidden', { detail: decision.reason, incidentId: incident.id });
    }
    return startedReply(await deps.incidents.runOn(incident, pipeline, { user, channel }), pipeline);
  },
};
