import type { IncidentRecord } from '../../incident/types.js';
import type { ButtonValue } from '../../../templates/button-value.js';
import type { CommandDeps, CommandResult } from '../command-types.js';

export interface ActionContext {
  /** The incident the button names, checked to exist and be visible from this channel. */
  incident: IncidentRecord;
  value: ButtonValue;
  user: string;
  channel: string;
  /** For a modal (views.open); valid for 3 s after the press. */
  triggerId?: string;
}

/** One button of the bot's messages. Each lives in its own file beside this one. */
export interface ButtonAction {
  name: string;
  actionId: string;
  /** false: the button may name no incident yet (the confirm of `/triage run <pipeline> <server>`). */
  requiresIncident?: false;
  /** The button is an ephemeral confirm prompt: the answer replaces it, so it cannot be pressed twice. */
  replacesPrompt?: true;
  run(ctx: Omit<ActionContext, 'incident'> & { incident?: IncidentRecord }, deps: CommandDeps): Promise<CommandResult>;
}

/** The incident of a context whose action requires one (runAction checked it). */
export function incidentOf(ctx: { incident?: IncidentRecord }): IncidentRecord {
  if (!ctx.incident) throw new Error('button action without its incident');
  return ctx.incident;
}
