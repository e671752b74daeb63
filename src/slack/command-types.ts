import type { Registry } from '../config/servers.js';
import type { IncidentStore } from '../incident/store.js';
import type { SlackMessage } from '../../templates/blocks.js';
import type { AccessControl } from './access.js';
import type { IncidentService } from './incident-service.js';
import type { SlackPoster } from './poster.js';

/** A parsed `/triage <sub> [args] [--flag value]`. */
export interface Invocation {
  sub: string;
  args: string[];
  flags: Record<string, string | true>;
  text: string;
  user: string;
  channel: string;
  /** Set when Slack redelivers a request it thinks was not acked (x-slack-retry-num). */
  retryNum?: number;
}

export interface CommandDeps {
  registry: Registry;
  store: IncidentStore;
  incidents: IncidentService;
  access: AccessControl;
  /** Slack calls a command makes besides its answer (a file, a modal). */
  poster: SlackPoster;
  now: () => Date;
  /** Every subcommand's usage line, for help and usage errors. */
  catalog: ReadonlyArray<{ name: string; usage: string; summary: string }>;
}

export type Outcome = 'ok' | 'started' | 'joined' | 'usage' | 'unknown-server' | 'not-found' | 'forbidden' | 'resolved' | 'superseded' | 'error';

export interface CommandResult {
  outcome: Outcome;
  reply?: { message: SlackMessage; visibility: 'ephemeral' | 'in_channel' };
  incidentId?: string;
  /** For the audit log: why it was refused, what failed. */
  detail?: string;
}

/** One slash subcommand. Each lives in its own file under commands/. */
export interface SlashCommand {
  name: string;
  usage: string;
  summary: string;
  /**
   * Checks that need no I/O (arguments, registered server names). A result here is sent as the
   * ack itself, so a malformed command is answered inside Slack's 3 s without touching Redis.
   */
  check(inv: Invocation, deps: CommandDeps): CommandResult | null;
  run(inv: Invocation, deps: CommandDeps): Promise<CommandResult>;
}
