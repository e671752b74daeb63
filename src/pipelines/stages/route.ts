import { patchIncident } from '../../incident/journal.js';
import { MINUTE, type Stage } from '../context.js';
import { routeStep } from '../route-step.js';

/** Route whatever the folder holds, by content; report.json + report.md. Always the last stage. */
export const routeStage: Stage = {
  title: 'route',
  deadlineMs: () => 5 * MINUTE,
  async run(ctx, signal) {
    const routed = await routeStep(ctx.paths.root, { registry: ctx.deps.registry, signal, ...(ctx.deps.invocation ? { invocation: ctx.deps.invocation } : {}) });
    ctx.state.report = routed.report;
    ctx.state.files.push(routed.reportJson, routed.reportMd);
    await patchIncident(ctx.paths.root, { status: 'routed', problemClass: routed.report.problemClass, nextSkill: routed.report.nextStep.skill }, ctx.now());
    return `${routed.report.problemClass} → ${routed.report.nextStep.skill}`;
  },
};
