import type { App } from '@slack/bolt';
import type { CommandResult } from '../command-types.js';
import { answer, type DispatchDeps } from '../dispatcher.js';
import { ephemeral, failure } from '../replies.js';
import { nextStepAction } from './next-step.js';
import { replayAction } from './replay.js';
import { resolveAction } from './resolve.js';
import { routeAction } from './route.js';
import type { ButtonAction } from './types.js';

export const BUTTON_ACTIONS: readonly ButtonAction[] = [replayAction, routeAction, nextStepAction, resolveAction];

/** The summary's buttons: ack at once, authorise, run, answer ephemerally, audit. */
export function registerActions(app: App, deps: DispatchDeps): void {
  for (const action of BUTTON_ACTIONS) {
    app.action(action.actionId, async ({ ack, body, action: payload, respond }) => {
      const started = performance.now();
      await ack();
      deps.metrics.ackSeconds.observe({ command: `action:${action.name}` }, (performance.now() - started) / 1000);
      const user = body.user.id;
      const channel = (body as { channel?: { id?: string } }).channel?.id ?? '';
      const incidentId = (payload as { value?: string }).value ?? '';
      let result: CommandResult;
      try {
        result = await runAction(action, { user, channel, incidentId }, deps);
      } catch (err) {
        deps.logger.error('action failed', { action: action.name, err });
        result = failure(err);
      }
      if (result.reply) await answer(deps, respond, { user, channel }, result.reply);
      deps.metrics.commands.inc({ command: `action:${action.name}`, outcome: result.outcome });
      await deps.audit.record({
        at: deps.now().toISOString(),
        command: `action:${action.name}`,
        user,
        channel,
        args: incidentId,
        outcome: result.outcome,
        ...(result.incidentId || incidentId ? { incidentId: result.incidentId ?? incidentId } : {}),
        ...(result.detail ? { detail: result.detail } : {}),
      });
    });
  }
}

async function runAction(action: ButtonAction, who: { user: string; channel: string; incidentId: string }, deps: DispatchDeps): Promise<CommandResult> {
  if (!deps.access.channelAllowed(who.channel)) return ephemeral(':no_entry: The triage bot is not enabled in this channel.', 'forbidden', { detail: 'channel not allowed' });
  const incident = who.incidentId ? await deps.store.get(who.incidentId) : null;
  if (!incident) return ephemeral(`No incident \`${who.incidentId}\`.`, 'not-found');
  return action.run({ incident, user: who.user, channel: who.channel }, deps);
}
