import { requireHost, type NamedServer } from '../config/servers.js';
import { TriageError, describeError } from '../errors.js';
import type { IncidentStore } from '../incident/store.js';
import type { IncidentRecord } from '../incident/types.js';
import type { Logger, PipelineName } from '../pipelines/types.js';
import type { PipelineJobData } from '../queue/jobs.js';
import type { TriageProducer } from '../queue/producer.js';
import { noteMessage, openedMessage } from '../../templates/blocks.js';
import { statusMessage } from '../../templates/status-blocks.js';
import type { BotMetrics } from './metrics.js';
import type { SlackPoster } from './poster.js';

export interface Who {
  user: string;
  channel: string;
}

export type StartOutcome =
  | { kind: 'started'; incident: IncidentRecord; jobId: string }
  | { kind: 'joined'; incident: IncidentRecord; jobId?: string }
  | { kind: 'resolved'; incident: IncidentRecord };

export interface IncidentServiceDeps {
  store: IncidentStore;
  producer: TriageProducer;
  poster: SlackPoster;
  metrics: BotMetrics;
  logger: Logger;
  now: () => Date;
  dedupeWindowMs: number;
}

/**
 * What commands and buttons do, without Slack's transport: open or join an incident, start a
 * pipeline job on it (thread status message first, then the job, so progress always has a
 * message to update), resolve it.
 */
export class IncidentService {
  constructor(private readonly deps: IncidentServiceDeps) {}

  /** `/triage capture <server>`: a second trigger within the window joins the open incident. */
  async capture(server: NamedServer, who: Who): Promise<StartOutcome> {
    const { store, poster } = this.deps;
    const opened = await store.open(
      { server: server.name, host: requireHost(server), channel: who.channel, createdBy: who.user, pipeline: 'capture' },
      { scope: server.name, windowMs: this.deps.dedupeWindowMs },
    );
    if (!opened.created) {
      await this.noteJoin(opened.incident, 'capture', who);
      return { kind: 'joined', incident: opened.incident, ...(opened.incident.jobId ? { jobId: opened.incident.jobId } : {}) };
    }
    let incident = opened.incident;
    const root = await poster.post(who.channel, openedMessage({ ...incident, createdBy: who.user }));
    if (root.ok) {
      await store.update(incident.id, { threadTs: root.value });
      incident = { ...incident, threadTs: root.value };
    } else {
      await store.append(incident.id, { kind: 'slack', text: `opening message not posted: ${root.error}` });
    }
    return this.startJob(incident, 'capture', who, {});
  }

  /** A pipeline on an existing incident (replay, route, the next step). */
  runOn(incident: IncidentRecord, pipeline: PipelineName, who: Who, opts: { target?: string } = {}): Promise<StartOutcome> {
    return this.startJob(incident, pipeline, who, opts);
  }

  async resolve(incident: IncidentRecord, who: Who): Promise<void> {
    const { store, poster, producer, logger } = this.deps;
    const at = this.deps.now().toISOString();
    await store.update(incident.id, { status: 'resolved', resolvedBy: who.user, resolvedAt: at });
    await store.append(incident.id, { kind: 'resolved', text: 'marked resolved', by: who.user });
    // The host's incident.json follows through the host's own queue (the bot cannot reach its disk).
    await producer.enqueueMark(incident.host, { incidentId: incident.id, server: incident.server, status: 'resolved', by: who.user }).catch((err: unknown) => {
      logger.warn('resolve not sent to the host', { incidentId: incident.id, err });
    });
    await poster.post(incident.channel, noteMessage(`:white_check_mark: Marked resolved by <@${who.user}>.`), incident.threadTs);
  }

  private async startJob(incident: IncidentRecord, pipeline: PipelineName, who: Who, opts: { target?: string }): Promise<StartOutcome> {
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
    return { kind: 'started', incident: { ...incident, jobId, pipeline, jobState: 'queued', ...(statusTs ? { statusTs } : {}) }, jobId };
  }

  private async noteJoin(incident: IncidentRecord, pipeline: string, who: Who): Promise<void> {
    this.deps.metrics.jobs.inc({ state: 'joined' });
    await this.deps.store.append(incident.id, { kind: 'joined', pipeline, by: who.user, text: `${pipeline} asked again; joined the running one` });
  }
}
