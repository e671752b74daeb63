import type { IncidentRecord } from '../../incident/types.js';
import type { CommandDeps, CommandResult } from '../command-types.js';

export interface ActionContext {
  incident: IncidentRecord;
  user: string;
  channel: string;
}

/** One button of the incident summary. Each lives in its own file beside this one. */
export interface ButtonAction {
  name: string;
  actionId: string;
  run(ctx: ActionContext, deps: CommandDeps): Promise<CommandResult>;
}
