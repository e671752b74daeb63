import { capture } from '../../commands/capture.js';
import { handoff } from '../../commands/handoff.js';
import { help } from '../../commands/help.js';
import { own } from '../../commands/own.js';
import { replay } from '../../commands/replay.js';
import { resolve } from '../../commands/resolve.js';
import { route } from '../../commands/route.js';
import { run } from '../../commands/run.js';
import { severity } from '../../commands/severity.js';
import { state } from '../../commands/state.js';
import { status } from '../../commands/status.js';
import type { SlashCommand } from './command-types.js';

/** Every `/triage` subcommand, in the order help lists them. */
export const COMMANDS: readonly SlashCommand[] = [capture, run, replay, route, status, own, severity, state, resolve, handoff, help];

export const CATALOG = COMMANDS.map(({ name, usage, summary }) => ({ name, usage, summary }));
