import { requireHost, type NamedServer } from '../config/servers.js';
import { TriageError, describeError } from '../errors.js';
import { ALLOWED_FROM, isSlackUser, type TargetState } from '../incident/lifecycle.js';
import type { IncidentStore } from '../incident/store.js';
import type { IncidentRecord, IncidentStatus, Severity } from '../incident/types.js';
import type { Logger, PipelineName } from '../pipelines/types.js';
import type { PipelineJobData } from '../queue/jobs.js';
import type { TriageProducer } from '../queue/producer.js';
import { userMention } from '../../templates/blocks-kit.js';
import { noteMessage } from '../../templates/blocks.js';
import { rootMessage } from '../../templates/root-blocks.js';
import { slackLine } from '../../templates/sanitize.js';
import { statusMessage } from '../../templates/status-blocks.js';
import type { BotMetrics } from './metrics.js';
import type { SlackPoster } from './poster.js';
import type { RootMessages } from './root-messages.js';

export interface Who {
  user: string;
  channel: string;
}

/** What a run needs beyond its pipeline (PipelineRequest's optional parts, validated upstream). */
export interface RunOptions {
  target?: string;
  regression?: { good: string; bad: string; run?: boolean };
  compareProduction?: boolean;
}

export type StartOutcome =
  | { kind: 'started'; incident: IncidentRecord; jobId: string }
  | { kind: 'joined'; incident: IncidentRecord; jobId?: string }
  | { kind: 'resolved'; incident: IncidentRecord };

export type ChangeOutcome = { kind: 'changed'; incident: IncidentRecord; from: IncidentStatus } | { kind: 'refused'; incident: IncidentRecord; from: IncidentStatus | null };

export interface IncidentServiceDeps {
  store: IncidentStore;
  producer: TriageProducer;
  poster: SlackPoster;
  roots: RootMessages;
  metrics: BotMetrics;
  logger: Logger;
  now: () => Date;
  dedupeWindowMs: number;
}

/**
 * What commands and buttons do, without Slack's transport: open or join an incident, start a
 * pipeline job on it (thread status message first, then the job, so progress always has a
 * message to update), move it through its lifecycle. Every change redraws the root message.
 */
export class IncidentService {
  constructor(private readonly deps: IncidentServiceDeps) {}

  /** `/triage capture <server>`: a second trigger within the window joins the open incident. */
  capture(server: NamedServer, who: Who): Promise<StartOutcome> {
    return this.open(server, 'capture', who, {});
  }

  /**
   * Opens an incident on a registered server and starts `pipeline` on it (`/triage capture`,
   * `/triage run`). The same server and pipeline again inside the dedupe window joins it.
   */
  async open(server: NamedServer, pipeline: PipelineName, who: Who, opts: RunOptions): Promise<StartOutcome> {
    const { store, poster } = this.deps;
    const opened = await store.open(
      { server: server.name, host: requireHost(server), channel: who.channel, createdBy: who.user, pipeline, ...(isSlackUser(who.user) ? { owner: who.user } : {}) },
      { scope: server.name, windowMs: this.deps.dedupeWindowMs },
    );
    if (!opened.created) {
      await this.noteJoin(opened.incident, pipeline, who);
      return { kind: 'joined', incident: opened.incident, ...(opened.incident.jobId ? { jobId: opened.incident.jobId } : {}) };
    }
    let incident = opened.incident;
    const root = await poster.post(who.channel, rootMessage(incident));
    if (root.ok) {
      const link = await poster.permalink(who.channel, root.value);
      await store.update(incident.id, { threadTs: root.value, ...(link.ok && link.value ? { permalink: link.value } : {}) });
      incident = { ...incident, threadTs: root.value, ...(link.ok && link.value ? { permalink: link.value } : {}) };
    } else {
      await store.append(incident.id, { kind: 'slack', text: `opening message not posted: ${root.error}` });
    }
    return this.startJob(incident, pipeline, who, opts);
  }

  /** A pipeline on an existing incident (replay, route, the next step, `/triage run` joining one). */
  async runOn(incident: IncidentRecord, pipeline: PipelineName, who: Who, opts: RunOptions = {}): Promise<StartOutcome> {
    await this.firstResponder(incident, who);
    return this.startJob(incident, pipeline, who, opts);
  }

  /** `/triage own`: the caller owns it now; an open incident moves to investigating. */
  async own(incident: IncidentRecord, who: Who): Promise<IncidentRecord> {
    const { store } = this.deps;
    await store.setOwner(incident.id, who.user);
    await store.transition(incident.id, 'investigating', ['open', 'failed']);
    const previous = incident.owner && incident.owner !== who.user ? ` (was ${userMention(incident.owner)})` : '';
    await store.append(incident.id, { kind: 'owner', text: `owner is now ${who.user}`, by: who.user });
    return this.announce(incident, `:raising_hand: <@${who.user}> owns this incident now${previous}.`);
  }

  async setSeverity(incident: IncidentRecord, severity: Severity, who: Who): Promise<IncidentRecord> {
    await this.deps.store.update(incident.id, { severity });
    await this.firstResponder(incident, who);
    await this.deps.store.append(incident.id, { kind: 'severity', text: `severity ${severity}${incident.severity ? ` (was ${incident.severity})` : ''}`, by: who.user });
    return this.announce(incident, `:rotating_light: Severity set to *${severity.toUpperCase()}* by <@${who.user}>${incident.severity ? ` (was ${incident.severity.toUpperCase()})` : ''}.`);
  }

  /** investigating / mitigated (resolve has its own method: it needs a reason and tells the host). */
  async moveTo(incident: IncidentRecord, state: Exclude<TargetState, 'resolved'>, who: Who, note?: string): Promise<ChangeOutcome> {
    const moved = await this.deps.store.transition(incident.id, state, ALLOWED_FROM[state]);
    if (!moved.ok) return { kind: 'refused', incident, from: moved.from };
    await this.firstResponder(incident, who);
    await this.deps.store.append(incident.id, { kind: 'state', text: `${moved.from} → ${state}${note ? `: ${note}` : ''}`, by: who.user });
    const updated = await this.announce(incident, `:large_yellow_circle: <@${who.user}> marked this incident *${state}*${note ? `: ${slackLine(note)}` : ''}.`);
    return { kind: 'changed', incident: updated, from: moved.from };
  }

  /** Resolve once (atomic: two people pressing at once resolve it once), with the reason, everywhere. */
  async resolve(incident: IncidentRecord, who: Who, reason: string): Promise<ChangeOutcome> {
    const { store, producer, logger } = this.deps;
    const at = this.deps.now().toISOString();
    const moved = await store.transition(incident.id, 'resolved', ALLOWED_FROM.resolved, { resolvedBy: who.user, resolvedAt: at, resolveReason: reason });
    if (!moved.ok) return { kind: 'refused', incident, from: moved.from };
    await store.append(incident.id, { kind: 'resolved', text: `resolved: ${reason}`, by: who.user });
    // The host's incident.json follows through the host's own queue (the bot cannot reach its disk).
    await producer.enqueueMark(incident.host, { incidentId: incident.id, server: incident.server, status: 'resolved', by: who.user }).catch((err: unknown) => {
      logger.warn('resolve not sent to the host', { incidentId: incident.id, err });
    });
    const updated = await this.announce(incident, `:white_check_mark: Marked resolved by <@${who.user}>: ${slackLine(reason)}`);
    return { kind: 'changed', incident: updated, from: moved.from };
  }

  /** The first person to act on an incident without an owner owns it (alert-opened ones start without). */
  private async firstResponder(incident: IncidentRecord, who: Who): Promise<void> {
    if (incident.owner || !isSlackUser(who.user)) return;
    const owner = await this.deps.store.setOwner(incident.id, who.user, { onlyIfUnset: true });
    if (owner === who.user) await this.deps.store.append(incident.id, { kind: 'owner', text: `first responder ${who.user} owns it`, by: who.user });
  }

  /** A note in the thread, then the root message redrawn; returns the incident as it is now. */
  private async announce(incident: IncidentRecord, note: string): Promise<IncidentRecord> {
    const posted = await this.deps.poster.post(incident.channel, noteMessage(note), incident.threadTs);
    if (!posted.ok) await this.deps.store.append(incident.id, { kind: 'slack', text: `thread note not posted: ${posted.error}` });
    await this.deps.roots.refresh(incident);
    return (await this.deps.store.get(incident.id, { timeline: false })) ?? incident;
  }

  private async startJob(incident: IncidentRecord, pipeline: PipelineName, who: Who, opts: RunOptions): Promise<StartOutcome> {
    const { store, poster, producer, metrics } = this.deps;
    const begun = await store.beginJob(incident.id, pipeline);
    if (begun.outcome === 'missing') throw new TriageError('E_NOT_FOUND', `no incident ${incident.id}`);
    if (begun.outcome === 'resolved') return { kind: 'resolved', incident };
    if (begun.outcome === 'joined') {
      await this.noteJoin(incident, pipeline, who);
      return { kind: 'joined', incident, jobId: begun.jobId };
    }
    const jobId = begun.jobId;
    const status = await poster.post(
      incident.channel,
      statusMessage({ incidentId: incident.id, server: incident.server, host: incident.host, pipeline, jobState: 'queued', steps: [], at: this.deps.now().toISOString() }),
      incident.threadTs,
    );
    const statusTs = status.ok ? status.value : undefined;
    if (statusTs) await store.updateForJob(incident.id, jobId, { statusTs });
    const data: PipelineJobData = {
      incidentId: incident.id,
      server: incident.server,
      pipeline,
      requestedBy: who.user,
      createdAt: incident.createdAt,
      ...(opts.target ? { target: opts.target } : {}),
      ...(opts.regression ? { regression: opts.regression } : {}),
      ...(opts.compareProduction ? { compareProduction: true } : {}),
      slack: { channel: incident.channel, ...(incident.threadTs ? { threadTs: incident.threadTs } : {}), ...(statusTs ? { statusTs } : {}) },
    };
    try {
      await producer.enqueue(incident.host, data, jobId);
    } catch (err) {
      await store.updateForJob(incident.id, jobId, { jobState: 'failed', failure: `not queued: ${describeError(err)}` });
      throw new TriageError('E_TRANSIENT', `could not queue ${pipeline} for ${incident.host}: ${describeError(err)}`, { cause: err });
    }
    metrics.jobs.inc({ state: 'queued' });
    await store.append(incident.id, { kind: 'queued', pipeline, by: who.user, text: `${pipeline} queued on ${incident.host} as ${jobId}` });
    // Not awaited: the redraw is coalesced and may wait out its interval; the answer need not.
    void this.deps.roots.refresh(incident);
    return { kind: 'started', incident: { ...incident, jobId, pipeline, jobState: 'queued', ...(statusTs ? { statusTs } : {}) }, jobId };
  }

  private async noteJoin(incident: IncidentRecord, pipeline: string, who: Who): Promise<void> {
    this.deps.metrics.jobs.inc({ state: 'joined' });
    await this.deps.store.append(incident.id, { kind: 'joined', pipeline, by: who.user, text: `${pipeline} asked again; joined the running one` });
  }
}
