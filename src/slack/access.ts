import type { AccessConfig } from '../config/servers.js';
import type { SlackResult } from './poster.js';

export type AccessDecision = { allowed: true; via: string } | { allowed: false; reason: string };

export interface AccessControlOptions {
  access: AccessConfig;
  /** usergroups.users.list for one group. */
  groupMembers: (group: string) => Promise<SlackResult<string[]>>;
  cacheMs: number;
  now: () => number;
}

/**
 * Who may use the bot where (servers.yaml `access`). Channels: an empty list means every channel.
 * Intrusive steps (replay, a clean target, profiling, cuda-gdb attach): listed users, or members
 * of listed user groups; nobody when both lists are empty. Group members are cached for cacheMs,
 * and concurrent look-ups of one group share a single Slack call.
 */
export class AccessControl {
  private readonly cache = new Map<string, { members: Set<string>; until: number }>();
  private readonly inFlight = new Map<string, Promise<SlackResult<string[]>>>();

  constructor(private readonly options: AccessControlOptions) {}

  channelAllowed(channel: string): boolean {
    const allowed = this.options.access.channels;
    return allowed.length === 0 || allowed.includes(channel);
  }

  /** Incidents are scoped to the channel they were opened in unless access.incidentScope is 'workspace'. */
  canSee(incident: { channel: string }, channel: string): boolean {
    return this.options.access.incidentScope === 'workspace' || incident.channel === channel;
  }

  get incidentScope(): 'channel' | 'workspace' {
    return this.options.access.incidentScope;
  }

  /** Who may run intrusive steps and resolve, as Slack mentions, for a refusal to name. */
  whoMayAct(): string {
    const { intrusiveUsers, intrusiveGroups } = this.options.access;
    const people = [...intrusiveUsers.filter((u) => /^[UW][A-Z0-9]+$/.test(u)).map((u) => `<@${u}>`), ...intrusiveGroups.filter((g) => /^S[A-Z0-9]+$/.test(g)).map((g) => `members of <!subteam^${g}>`)];
    return people.length ? people.join(', ') : 'nobody yet (servers.yaml `access.intrusiveUsers` and `access.intrusiveGroups` are empty)';
  }

  async mayRunIntrusive(user: string): Promise<AccessDecision> {
    const { intrusiveUsers, intrusiveGroups } = this.options.access;
    if (intrusiveUsers.includes(user)) return { allowed: true, via: 'user list' };
    const failures: string[] = [];
    for (const group of intrusiveGroups) {
      const members = await this.members(group);
      if (!members.ok) {
        failures.push(`${group}: ${members.error}`);
        continue;
      }
      if (members.value.has(user)) return { allowed: true, via: `group ${group}` };
    }
    if (failures.length) return { allowed: false, reason: `group membership could not be checked (${failures.join('; ')})` };
    if (!intrusiveUsers.length && !intrusiveGroups.length) return { allowed: false, reason: 'no user or group may run intrusive steps (servers.yaml access.intrusiveUsers / intrusiveGroups are empty)' };
    return { allowed: false, reason: 'you are not in access.intrusiveUsers or any of access.intrusiveGroups' };
  }

  private async members(group: string): Promise<SlackResult<Set<string>>> {
    const cached = this.cache.get(group);
    if (cached && cached.until > this.options.now()) return { ok: true, value: cached.members };
    let pending = this.inFlight.get(group);
    if (!pending) {
      pending = this.options.groupMembers(group).finally(() => this.inFlight.delete(group));
      this.inFlight.set(group, pending);
    }
    const result = await pending;
    if (!result.ok) return result;
    const members = new Set(result.value);
    this.cache.set(group, { members, until: this.options.now() + this.options.cacheMs });
    return { ok: true, value: members };
  }
}
