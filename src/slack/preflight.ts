import { findServer } from '../config/servers.js';
import type { Logger } from '../pipelines/types.js';
import type { CommandDeps, Invocation } from './command-types.js';
import type { SlackResult } from './poster.js';

export type PreflightProblem = { kind: 'not-in-channel' | 'no-worker'; text: string };

export interface PreflightDeps {
  /** conversations.info → is the bot in the channel? */
  isMember: (channel: string) => Promise<SlackResult<boolean>>;
  /** host → newest worker heartbeat (ms), all hosts in one read. */
  heartbeats: () => Promise<Map<string, number>>;
  /** 0: the worker check is off. */
  workerMaxAgeMs: number;
  /** How long a "yes, the bot is in this channel" is trusted. */
  channelCacheMs: number;
  /** How long one read of every host's heartbeat serves all commands. */
  heartbeatCacheMs: number;
  now: () => number;
  logger: Logger;
}

/** Subcommands that start a job on a host and post its thread in the channel. */
const JOB_SUBCOMMANDS = new Set(['capture', 'run', 'replay', 'route']);

/**
 * No dead ends: before the bot answers "progress follows in the thread" it checks that it can
 * post in the channel and that a worker of the host is alive. Both answers are cached briefly, so a
 * burst costs one conversations.info per channel and one Redis read, and the checks run after the
 * ack (the answer goes through the response_url). A Slack or Redis error here lets the command
 * through: the check must never be what breaks the bot.
 */
export class Preflight {
  private readonly members = new Map<string, number>();
  private readonly memberLookups = new Map<string, Promise<SlackResult<boolean>>>();
  private beats?: { at: number; value: Promise<Map<string, number>> };

  constructor(private readonly deps: PreflightDeps) {}

  /** The host a slash command would start a job on, or null when it starts none. */
  async hostFor(inv: Invocation, deps: Pick<CommandDeps, 'registry' | 'store'>): Promise<string | null> {
    if (!JOB_SUBCOMMANDS.has(inv.sub)) return null;
    for (const arg of inv.args) {
      const server = findServer(deps.registry, arg);
      // A server without `host:` is CLI-only; the command itself says so.
      if (server) return server.host ?? null;
    }
    const id = inv.args.find((a) => a.startsWith('inc-'));
    const incident = id ? await deps.store.get(id, { timeline: false }) : await deps.store.newestInChannel(inv.channel, { timeline: false });
    return incident?.host ?? null;
  }

  async check(channel: string, host: string | null): Promise<PreflightProblem | null> {
    const [member, worker] = await Promise.all([this.channelProblem(channel), host ? this.workerProblem(host) : null]);
    return member ?? worker;
  }

  private async channelProblem(channel: string): Promise<PreflightProblem | null> {
    const now = this.deps.now();
    if ((this.members.get(channel) ?? 0) > now) return null;
    let lookup = this.memberLookups.get(channel);
    if (!lookup) {
      lookup = this.deps.isMember(channel).finally(() => this.memberLookups.delete(channel));
      this.memberLookups.set(channel, lookup);
    }
    const result = await lookup;
    if (!result.ok && result.error !== 'channel_not_found') {
      this.deps.logger.warn('channel membership not checked; letting the command through', { channel, error: result.error });
      return null;
    }
    if (result.ok && result.value) {
      this.members.set(channel, now + this.deps.channelCacheMs);
      return null;
    }
    // Not cached: once someone invites the bot, the next try works.
    return {
      kind: 'not-in-channel',
      text: ':no_entry: I am not a member of this channel, so I cannot post the incident thread here. Invite me (`/invite @triage`, or the channel\'s *Integrations → Add apps*) and run the command again. Nothing was started.',
    };
  }

  private async workerProblem(host: string): Promise<PreflightProblem | null> {
    if (!this.deps.workerMaxAgeMs) return null;
    const now = this.deps.now();
    if (!this.beats || now - this.beats.at > this.deps.heartbeatCacheMs) this.beats = { at: now, value: this.deps.heartbeats() };
    let beats: Map<string, number>;
    try {
      beats = await this.beats.value;
    } catch (err) {
      this.beats = undefined;
      this.deps.logger.warn('worker heartbeats not read; letting the command through', { host, err });
      return null;
    }
    const last = beats.get(host);
    if (last !== undefined && now - last <= this.deps.workerMaxAgeMs) return null;
    const seen = last === undefined ? 'no worker of it has ever sent a heartbeat' : `its workers' last heartbeat was ${ago(now - last)} ago`;
    return {
      kind: 'no-worker',
      text: `:no_entry: No worker is serving host \`${host}\`: ${seen}. Start the worker on that host (\`TRIAGE_HOST=${host} npm run worker\`, or its systemd unit) and run the command again. Nothing was started.`,
    };
  }
}

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}
