import { serverNames, type Registry } from '../config/servers.js';
import { describeError, isTriageError } from '../errors.js';
import { isRedisUnavailable } from '../queue/redis.js';
import type { IncidentRecord } from '../incident/types.js';
import { noteMessage } from '../../templates/blocks.js';
import { echo } from '../../templates/sanitize.js';
import type { CommandDeps, CommandResult, Invocation } from './command-types.js';

/** Shared answers of the subcommands (usage errors, unknown servers, missing incidents). */

export function ephemeral(text: string, outcome: CommandResult['outcome'] = 'ok', extra: Partial<CommandResult> = {}): CommandResult {
  return { outcome, reply: { message: noteMessage(text), visibility: 'ephemeral' }, ...extra };
}

/** `problem` may quote what the user typed only through echo(). */
export function usage(deps: CommandDeps, name: string, problem: string): CommandResult {
  const entry = deps.catalog.find((c) => c.name === name);
  return ephemeral(`${problem}\nUsage: \`${entry?.usage ?? `/triage ${name}`}\`  (\`/triage help\` lists every subcommand)`, 'usage', { detail: problem });
}

export function unknownServer(registry: Registry, name: string): CommandResult {
  const names = serverNames(registry);
  const list = names.length ? names.map((n) => `\`${n}\``).join(', ') : '_none: servers.yaml lists no servers_';
  return ephemeral(`Unknown server \`${echo(name)}\`. Registered servers: ${list}`, 'unknown-server', { detail: name.slice(0, 200) });
}

/** How many of an incident's newest timeline entries commands read (status shows the last few). */
export const TIMELINE_READ = 20;

/**
 * The incident named, or the newest one started in this channel. An incident of another channel
 * is answered exactly like a missing one (its existence is not told) unless access.incidentScope
 * is 'workspace'.
 */
export async function incidentFor(inv: Pick<Invocation, 'channel'>, deps: CommandDeps, id: string | undefined): Promise<IncidentRecord | CommandResult> {
  const options = { timeline: TIMELINE_READ };
  const incident = id ? (isIncidentId(id) ? await deps.store.get(id, options) : null) : await deps.store.newestInChannel(inv.channel, options);
  if (incident && deps.access.canSee(incident, inv.channel)) return incident;
  const detail = incident ? 'incident of another channel' : 'no such incident';
  return ephemeral(id ? `No incident \`${echo(id)}\` in this channel.` : 'No incident in this channel yet. Start one with `/triage capture <server>`.', 'not-found', { detail });
}

export function isIncidentId(value: string): boolean {
  return /^inc-[A-Za-z0-9._-]{1,200}$/.test(value);
}

/** The ephemeral refusal of an intrusive step or a resolve: why, and who may do it instead. */
export function refusal(deps: CommandDeps, what: string, reason: string, incidentId?: string): CommandResult {
  return ephemeral(`:no_entry: ${what} and you may not: ${reason}.\nWho may: ${deps.access.whoMayAct()}.`, 'forbidden', { detail: reason, ...(incidentId ? { incidentId } : {}) });
}

/** Gate for everything intrusive and for resolve: null when `user` may act, else the refusal. */
export async function gate(deps: CommandDeps, user: string, what: string, incidentId?: string): Promise<CommandResult | null> {
  const decision = await deps.access.mayRunIntrusive(user);
  return decision.allowed ? null : refusal(deps, what, decision.reason, incidentId);
}

/** What follows the subcommand (and `skip` leading words) as typed: a resolve reason, a note. */
export function restText(inv: Invocation, skip: number): string {
  let rest = inv.text.trim();
  for (let i = 0; i <= skip; i++) rest = rest.replace(/^\S+\s*/, '');
  return rest.trim();
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
