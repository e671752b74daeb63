import type { App, RespondFn } from '@slack/bolt';
import type { Logger } from '../pipelines/types.js';
import type { SlackMessage } from '../../templates/blocks.js';
import type { AuditLog } from './audit.js';
import type { CommandDeps, CommandResult, Invocation, SlashCommand } from './command-types.js';
import type { BotMetrics } from './metrics.js';
import { parseInvocation } from './parse.js';
import type { SlackPoster } from './poster.js';
import { ephemeral, failure } from './replies.js';
import { echo } from '../../templates/sanitize.js';

/** What the audit keeps of a command's text: a 1 MiB argument is cut, never stored whole. */
const AUDIT_ARGS_MAX = 2000;

export interface DispatchDeps extends CommandDeps {
  commands: readonly SlashCommand[];
  audit: AuditLog;
  metrics: BotMetrics;
  poster: SlackPoster;
  logger: Logger;
}

/**
 * The one `/triage` listener: parse, authorise the channel, run the no-I/O checks, ack (with the
 * answer itself when a check already has one), then run the subcommand and answer through the
 * response_url. Everything that reaches here is audited, refusals included.
 */
export function registerTriageCommand(app: App, deps: DispatchDeps): void {
  app.command(/^\/triage/, async ({ command, ack, respond, context }) => {
    const started = performance.now();
    const inv = parseInvocation(command.text ?? '', { user: command.user_id, channel: command.channel_id, ...(context.retryNum !== undefined ? { retryNum: context.retryNum } : {}) });
    const handler = deps.commands.find((c) => c.name === inv.sub);
    const early = earlyAnswer(inv, handler, deps);
    if (early) {
      await ack(ackBody(early));
      deps.metrics.ackSeconds.observe({ command: inv.sub }, (performance.now() - started) / 1000);
      await finish(deps, inv, early);
      return;
    }
    await ack();
    deps.metrics.ackSeconds.observe({ command: inv.sub }, (performance.now() - started) / 1000);
    let result: CommandResult;
    try {
      result = await (handler as SlashCommand).run(inv, deps);
    } catch (err) {
      deps.logger.error('command failed', { sub: inv.sub, err });
      result = failure(err);
    }
    // A redelivered request that joined what the first delivery started needs no second answer.
    const quiet = inv.retryNum !== undefined && inv.retryNum > 0 && result.outcome === 'joined';
    if (result.reply && !quiet) await answer(deps, respond, inv, result.reply);
    await finish(deps, inv, result);
  });
}

/** Refusals and answers that need no I/O, so they can be the ack itself. */
function earlyAnswer(inv: Invocation, handler: SlashCommand | undefined, deps: DispatchDeps): CommandResult | null {
  if (!deps.access.channelAllowed(inv.channel)) {
    return ephemeral(':no_entry: The triage bot is not enabled in this channel. Ask in one of the channels listed in servers.yaml `access.channels`.', 'forbidden', { detail: 'channel not allowed' });
  }
  if (!handler) {
    const names = deps.commands.map((c) => `\`${c.name}\``).join(', ');
    return ephemeral(`Unknown subcommand \`${echo(inv.sub, 40)}\`. Try one of ${names}, or \`/triage help\`.`, 'usage', { detail: `unknown subcommand ${inv.sub.slice(0, 100)}` });
  }
  return handler.check(inv, deps);
}

function ackBody(result: CommandResult): { response_type: 'ephemeral' | 'in_channel'; text: string; blocks?: SlackMessage['blocks'] } | undefined {
  if (!result.reply) return undefined;
  return { response_type: result.reply.visibility, text: result.reply.message.text, blocks: result.reply.message.blocks };
}

/** response_url first (works in DMs and private channels); chat.postEphemeral if it is spent or expired. */
export async function answer(deps: Pick<DispatchDeps, 'poster' | 'logger'>, respond: RespondFn, inv: Pick<Invocation, 'user' | 'channel'>, reply: NonNullable<CommandResult['reply']>, replaceOriginal = false): Promise<void> {
  try {
    await respond({ response_type: reply.visibility, text: reply.message.text, blocks: reply.message.blocks, replace_original: replaceOriginal });
  } catch (err) {
    deps.logger.warn('response_url failed; falling back to chat.postEphemeral', { err });
    if (reply.visibility === 'in_channel') await deps.poster.post(inv.channel, reply.message);
    else await deps.poster.ephemeral(inv.channel, inv.user, reply.message);
  }
}

async function finish(deps: DispatchDeps, inv: Invocation, result: CommandResult): Promise<void> {
  deps.metrics.commands.inc({ command: inv.sub, outcome: result.outcome });
  await deps.audit.record({
    at: deps.now().toISOString(),
    command: inv.sub,
    user: inv.user,
    channel: inv.channel,
    args: inv.text.length > AUDIT_ARGS_MAX ? `${inv.text.slice(0, AUDIT_ARGS_MAX)}… (${inv.text.length} characters)` : inv.text,
    outcome: result.outcome,
    ...(result.incidentId ? { incidentId: result.incidentId } : {}),
    ...(inv.retryNum !== undefined ? { retryNum: inv.retryNum } : {}),
    ...(result.detail ? { detail: result.detail } : {}),
  });
}
