import { serverNames, type Registry } from '../config/servers.js';
import { describeError, isTriageError } from '../errors.js';
import { isRedisUnavailable } from '../queue/redis.js';
import type { IncidentRecord } from '../incident/types.js';
import { noteMessage } from '../../templates/blocks.js';
import type { CommandDeps, CommandResult, Invocation } from './command-types.js';

/** Shared answers of the subcommands (usage errors, unknown servers, missing incidents). */

export function ephemeral(text: string, outcome: CommandResult['outcome'] = 'ok', extra: Partial<CommandResult> = {}): CommandResult {
  return { outcome, reply: { message: noteMessage(text), visibility: 'ephemeral' }, ...extra };
}

export function usage(deps: CommandDeps, name: string, problem: string): CommandResult {
  const entry = deps.catalog.find((c) => c.name === name);
  return ephemeral(`${problem}\nUsage: \`${entry?.usage ?? `/triage ${name}`}\`  (\`/triage help\` lists every subcommand)`, 'usage', { detail: problem });
}

export function unknownServer(registry: Registry, name: string): CommandResult {
  const names = serverNames(registry);
  const list = names.length ? names.map((n) => `\`${n}\``).join(', ') : '_none: servers.yaml lists no servers_';
  return ephemeral(`Unknown server \`${name.replace(/`/g, "'")}\`. Registered servers: ${list}`, 'unknown-server', { detail: name });
}

/** How many of an incident's newest timeline entries commands read (status shows the last few). */
export const TIMELINE_READ = 20;

/** The incident named, or the newest one started in this channel. */
export async function incidentFor(inv: Invocation, deps: CommandDeps, id: string | undefined): Promise<IncidentRecord | CommandResult> {
  const options = { timeline: TIMELINE_READ };
  const incident = id ? await deps.store.get(id, options) : await deps.store.newestInChannel(inv.channel, options);
  if (incident) return incident;
  return ephemeral(id ? `No incident \`${id.replace(/`/g, "'")}\`.` : 'No incident in this channel yet. Start one with `/triage capture <server>`.', 'not-found');
}

export function isResult(value: IncidentRecord | CommandResult): value is CommandResult {
  return 'outcome' in value;
}

export function failure(err: unknown): CommandResult {
  if (isRedisUnavailable(err) || isTriageError(err, 'E_TRANSIENT')) {
    return ephemeral(`:warning: The incident store (Redis) is not answering; nothing was started. Please try again in a moment. (${describeError(err)})`, 'error', { detail: `transient: ${describeError(err)}` });
  }
  return ephemeral(`:warning: That failed: ${describeError(err)}`, 'error', { detail: describeError(err) });
}
