import type { App } from '@slack/bolt';
import { decodeButtonValue, type ButtonValue } from '../../../templates/button-value.js';
import { echo } from '../../../templates/sanitize.js';
import type { CommandResult } from '../command-types.js';
import { answer, type DispatchDeps } from '../dispatcher.js';
import { ephemeral, failure, incidentFor } from '../replies.js';
import { confirmRunAction } from './confirm-run.js';
import { nextStepAction } from './next-step.js';
import { ownAction } from './own.js';
import { replayAction } from './replay.js';
import { confirmResolveAction, resolveAction } from './resolve.js';
import { routeAction } from './route.js';
import type { ButtonAction } from './types.js';

export const BUTTON_ACTIONS: readonly ButtonAction[] = [replayAction, routeAction, nextStepAction, resolveAction, ownAction, confirmRunAction, confirmResolveAction];

/** Every action id the bot answers: the request guard refuses any other at once (400). */
export const ACTION_IDS: ReadonlySet<string> = new Set(BUTTON_ACTIONS.map((a) => a.actionId));

/** The bot's buttons: ack at once, authorise, run, answer ephemerally, audit. */
export function registerActions(app: App, deps: DispatchDeps): void {
  for (const action of BUTTON_ACTIONS) {
    app.action(action.actionId, async ({ ack, body, action: payload, respond }) => {
      const started = performance.now();
      await ack();
      deps.metrics.ackSeconds.observe({ command: `action:${action.name}` }, (performance.now() - started) / 1000);
      const user = body.user.id;
      const channel = (body as { channel?: { id?: string } }).channel?.id ?? '';
      const triggerId = (body as { trigger_id?: string }).trigger_id;
      const raw = (payload as { value?: string }).value ?? '';
      const value = decodeButtonValue(raw);
      let result: CommandResult;
      try {
        result = await runAction(action, { user, channel, value, raw, ...(triggerId ? { triggerId } : {}) }, deps);
      } catch (err) {
        deps.logger.error('action failed', { action: action.name, err });
        result = failure(err);
      }
      if (result.reply) await answer(deps, respond, { user, channel }, result.reply, action.replacesPrompt === true);
      deps.metrics.commands.inc({ command: `action:${action.name}`, outcome: result.outcome });
      const incidentId = result.incidentId ?? value?.i;
      await deps.audit.record({
        at: deps.now().toISOString(),
        command: `action:${action.name}`,
        user,
        channel,
        args: raw.slice(0, 2000),
        outcome: result.outcome,
        ...(incidentId ? { incidentId } : {}),
        ...(result.detail ? { detail: result.detail } : {}),
      });
    });
  }
}

interface Press {
  user: string;
  channel: string;
  value: ButtonValue | null;
  raw: string;
  triggerId?: string;
}

/**
 * Channel allowed, value well-formed, incident visible from this channel, and the button still
 * current: a button of a summary that a newer summary replaced answers "superseded".
 */
async function runAction(action: ButtonAction, press: Press, deps: DispatchDeps): Promise<CommandResult> {
  if (!deps.access.channelAllowed(press.channel)) return ephemeral(':no_entry: The triage bot is not enabled in this channel.', 'forbidden', { detail: 'channel not allowed' });
  const value = press.value;
  if (!value) return ephemeral(`That button's value \`${echo(press.raw)}\` is not one this bot wrote.`, 'usage', { detail: 'bad button value' });
  const ctx = { value, user: press.user, channel: press.channel, ...(press.triggerId ? { triggerId: press.triggerId } : {}) };
  if (!value.i) {
    if (action.requiresIncident === false) return action.run(ctx, deps);
    return ephemeral('That button names no incident.', 'usage', { detail: 'no incident in button' });
  }
  const incident = await incidentFor(press, deps, value.i);
  if ('outcome' in incident) return incident;
  if (value.j && incident.result && value.j !== incident.result.jobId) {
    return ephemeral(`:arrow_down: This summary of \`${incident.id}\` is superseded: a newer summary is further down the thread; use its buttons (or the incident's channel message).`, 'superseded', { incidentId: incident.id, detail: `stale button of ${value.j}` });
  }
  return action.run({ ...ctx, incident }, deps);
}
