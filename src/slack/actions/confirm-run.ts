import { findServer } from '../../config/servers.js';
import { INTRUSIVE_PIPELINES, isPipelineName } from '../../pipelines/catalog.js';
import { gitRefSchema } from '../../queue/jobs.js';
import { ACTIONS } from '../../../templates/blocks.js';
import type { RunOptions } from '../incident-service.js';
import { ephemeral, gate, unknownServer } from '../replies.js';
import { startedReply } from '../start-reply.js';
import type { ButtonAction } from './types.js';

/**
 * The confirm button of an intrusive `/triage run` or `/triage replay`: the request rides in the
 * button and is checked again here (the person pressing is gated again; the refs and servers are
 * validated again: a button value is input like any other).
 */
export const confirmRunAction: ButtonAction = {
  name: 'confirm-run',
  actionId: ACTIONS.confirmRun,
  requiresIncident: false,
  replacesPrompt: true,
  async run(ctx, deps) {
    const { value } = ctx;
    if (!value.p || !isPipelineName(value.p) || !value.s) return ephemeral('That button carries no runnable request.', 'usage');
    const pipeline = value.p;
    const server = findServer(deps.registry, value.s);
    if (!server) return unknownServer(deps.registry, value.s);
    if (ctx.incident && ctx.incident.server !== server.name) return ephemeral('That button names another server than its incident.', 'usage', { incidentId: ctx.incident.id });
    if (value.t && !findServer(deps.registry, value.t)) return unknownServer(deps.registry, value.t);
    const opts: RunOptions = { ...(value.t ? { target: value.t } : {}), ...(value.cp ? { compareProduction: true } : {}) };
    if (value.g || value.b) {
      if (!gitRefSchema.safeParse(value.g).success || !gitRefSchema.safeParse(value.b).success) return ephemeral('That button carries an invalid revision.', 'usage');
      opts.regression = { good: value.g as string, bad: value.b as string, ...(value.bi ? { run: true } : {}) };
    }
    if (INTRUSIVE_PIPELINES.has(pipeline) || opts.compareProduction) {
      const refused = await gate(deps, ctx.user, `${pipeline} is intrusive`, ctx.incident?.id);
      if (refused) return refused;
    }
    const who = { user: ctx.user, channel: ctx.channel };
    if (ctx.incident) return startedReply(await deps.incidents.runOn(ctx.incident, pipeline, who, opts), pipeline);
    return startedReply(await deps.incidents.open(server, pipeline, who, opts), pipeline, server.name);
  },
};
