import { capture } from '../../commands/capture.js';
import { handoff } from '../../commands/handoff.js';
import { help } from '../../commands/help.js';
import { replay } from '../../commands/replay.js';
import { route } from '../../commands/route.js';
import { status } from '../../commands/status.js';
import type { SlashCommand } from './command-types.js';

/** Every `/triage` subcommand, in the order help lists them. */
export const COMMANDS: readonly SlashCommand[] = [capture, replay, route, status, handoff, help];

export const CATALOG = COMMANDS.map(({ name, usage, summary }) => ({ name, usage, summary }));
