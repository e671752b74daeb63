import { findServer } from '../src/config/servers.js';
import { INTRUSIVE_PIPELINES, RUNNABLE_PIPELINES, isPipelineName, type PipelineName } from '../src/pipelines/catalog.js';
import { gitRefSchema } from '../src/queue/jobs.js';
import type { CommandResult, Invocation, SlashCommand } from '../src/slack/command-types.js';
import type { RunOptions } from '../src/slack/incident-service.js';
import { unknownFlags } from '../src/slack/parse.js';
import { gate, incidentFor, isResult, unknownServer, usage } from '../src/slack/replies.js';
import { startedReply } from '../src/slack/start-reply.js';
import { ACTIONS } from '../templates/blocks.js';
import type { ButtonValue } from '../templates/button-value.js';
import { confirmPromptMessage } from '../templates/confirm-blocks.js';
import { echo, slackCode } from '../templates/sanitize.js';

const FLAGS = ['good', 'bad', 'bisect', 'compare-production', 'target', 'incident'];

/**
 * `/triage run <pipeline> <server>`: any runnable pipeline of the catalog on a registered server
 * (a new incident, or `--incident <id>` to run it on one). Intrusive pipelines, and wrong-output's
 * `--compare-production`, are gated by access and answered with a confirm button first.
 */
export const run: SlashCommand = {
  name: 'run',
  usage: `/triage run <${RUNNABLE_PIPELINES.join('|')}> <server> [--good REF --bad REF [--bisect]] [--compare-production] [--target <server>] [--incident <id>]`,
  summary: 'run a whole pipeline on a server (intrusive ones are gated and confirmed)',
  check(inv, deps) {
    const parsed = parseRun(inv);
    if ('problem' in parsed) return usage(deps, 'run', parsed.problem);
    if (!findServer(deps.registry, parsed.server)) return unknownServer(deps.registry, parsed.server);
    if (parsed.opts.target && !findServer(deps.registry, parsed.opts.target)) return unknownServer(deps.registry, parsed.opts.target);
    return null;
  },
  async run(inv, deps) {
    const parsed = parseRun(inv);
    if ('problem' in parsed) return usage(deps, 'run', parsed.problem);
    const server = findServer(deps.registry, parsed.server);
    if (!server) return unknownServer(deps.registry, parsed.server);
    const { pipeline, opts } = parsed;
    let incidentId: string | undefined;
    if (parsed.incident) {
      const incident = await incidentFor(inv, deps, parsed.incident);
      if (isResult(incident)) return incident;
      if (incident.server !== server.name) return usage(deps, 'run', `\`${echo(incident.id)}\` is an incident of \`${slackCode(incident.server)}\`, not \`${slackCode(server.name)}\`.`);
      incidentId = incident.id;
    }
    const intrusive = INTRUSIVE_PIPELINES.has(pipeline) || opts.compareProduction === true;
    if (!intrusive) {
      const who = { user: inv.user, channel: inv.channel };
      if (incidentId) {
        const incident = await deps.store.require(incidentId);
        return startedReply(await deps.incidents.runOn(incident, pipeline, who, opts), pipeline);
      }
      const outcome = await deps.incidents.open(server, pipeline, who, opts);
      return startedReply(outcome, pipeline, server.name);
    }
    const refused = await gate(deps, inv.user, `${pipeline}${opts.compareProduction ? ' with --compare-production' : ''} is intrusive`, incidentId);
    if (refused) return refused;
    return confirmRun({ pipeline, server: server.name, opts, ...(incidentId ? { incidentId } : {}) });
  },
};

/** The confirm button of an intrusive run (slash command or `/triage replay`). */
export function confirmRun(req: { pipeline: PipelineName; server: string; incidentId?: string; opts: RunOptions }): CommandResult {
  const { pipeline, opts } = req;
  const value: ButtonValue = {
    p: pipeline,
    s: req.server,
    ...(req.incidentId ? { i: req.incidentId } : {}),
    ...(opts.target ? { t: opts.target } : {}),
    ...(opts.regression ? { g: opts.regression.good, b: opts.regression.bad } : {}),
    ...(opts.regression?.run ? { bi: 1 as const } : {}),
    ...(opts.compareProduction ? { cp: 1 as const } : {}),
  };
  const on = req.incidentId ? `incident \`${slackCode(req.incidentId)}\`` : `a new incident on \`${slackCode(req.server)}\``;
  const production = opts.compareProduction ? ' It also sends the greedy replay to *production*.' : '';
  const refs = opts.regression ? ` Good \`${slackCode(opts.regression.good)}\`, bad \`${slackCode(opts.regression.bad)}\`${opts.regression.run ? ', with `git bisect run`' : ''}.` : '';
  return {
    outcome: 'ok',
    ...(req.incidentId ? { incidentId: req.incidentId } : {}),
    detail: 'confirm asked',
    reply: {
      visibility: 'ephemeral',
      message: confirmPromptMessage({
        text: `:warning: *${pipeline}* is intrusive: it may start the clean target, replay traffic, attach a debugger or profile. It runs on ${on}.${refs}${production} Press to start it.`,
        label: `Start ${pipeline}`,
        actionId: ACTIONS.confirmRun,
        value,
        dialog: { title: `Start ${pipeline}?`, text: `Starts *${pipeline}* on ${on}.${production}`, confirm: `Start ${pipeline}` },
      }),
    },
  };
}

type ParsedRun = { pipeline: PipelineName; server: string; incident?: string; opts: RunOptions } | { problem: string };

function parseRun(inv: Invocation): ParsedRun {
  const [name, server, ...extra] = inv.args;
  if (!name || !server) return { problem: name ? 'Which server?' : 'Which pipeline, on which server?' };
  if (extra.length) return { problem: `Unexpected \`${echo(extra[0] ?? '')}\`.` };
  if (!isPipelineName(name) || !RUNNABLE_PIPELINES.includes(name)) return { problem: `\`${echo(name)}\` is not a runnable pipeline. Runnable: ${RUNNABLE_PIPELINES.map((p) => `\`${p}\``).join(', ')}.` };
  const flags = unknownFlags(inv, FLAGS);
  if (flags.length) return { problem: `Unknown option --${echo(flags[0] ?? '', 40)}.` };
  const str = (flag: string): string | undefined | null => {
    const v = inv.flags[flag];
    return v === undefined ? undefined : typeof v === 'string' ? v : null;
  };
  const good = str('good');
  const bad = str('bad');
  const target = str('target');
  const incident = str('incident');
  if (good === null || bad === null || target === null || incident === null) return { problem: '--good, --bad, --target and --incident each need a value.' };
  const opts: RunOptions = {};
  if (name === 'regression') {
    if (!good || !bad) return { problem: 'regression needs `--good REF --bad REF` (the known-good and known-bad revisions).' };
    for (const ref of [good, bad]) if (!gitRefSchema.safeParse(ref).success) return { problem: `\`${echo(ref)}\` is not a git revision (a tag, branch or sha; no spaces or shell characters).` };
    opts.regression = { good, bad, ...(inv.flags.bisect === true ? { run: true } : {}) };
  } else if (good || bad || inv.flags.bisect !== undefined) {
    return { problem: '--good, --bad and --bisect belong to `regression`.' };
  }
  if (inv.flags['compare-production'] !== undefined) {
    if (name !== 'wrong-output') return { problem: '--compare-production belongs to `wrong-output`.' };
    if (inv.flags['compare-production'] !== true) return { problem: '--compare-production takes no value.' };
    opts.compareProduction = true;
  }
  if (target) opts.target = target;
  return { pipeline: name, server, ...(incident ? { incident } : {}), opts };
}
