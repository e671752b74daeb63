import type { Job } from 'bullmq';
import type { IncidentStore } from '../incident/store.js';
import type { IncidentRecord, JobState, StepView } from '../incident/types.js';
import type { Logger } from '../pipelines/types.js';
import { jobProgressSchema, pipelineJobSchema, type PipelineJobData, type SlackTarget } from '../queue/jobs.js';
import { failureMessage, noteMessage, summaryMessage, type SlackMessage } from '../../templates/blocks.js';
import { renderReportMarkdown } from '../../templates/report-markdown.js';
import { statusMessage } from '../../templates/status-blocks.js';
import type { BotMetrics } from './metrics.js';
import type { SlackPoster } from './poster.js';
import { UpdateThrottle } from './throttle.js';

export interface ResultPosterDeps {
  store: IncidentStore;
  poster: SlackPoster;
  metrics: BotMetrics;
  logger: Logger;
  now: () => Date;
  updateIntervalMs: number;
}

interface StatusUpdate {
  channel: string;
  ts: string;
  message: SlackMessage;
}

/**
 * Turns queue events into Slack: throttled redraws of a job's status message, then exactly one
 * threaded summary (or failure notice) per job. "Exactly one" holds across event redelivery,
 * reconcile passes and several bots: a Redis claim is taken before posting and given back if
 * Slack could not be reached, so a later pass tries again.
 */
export class ResultPoster {
  private readonly throttle: UpdateThrottle<StatusUpdate>;

  constructor(private readonly deps: ResultPosterDeps) {
    this.throttle = new UpdateThrottle<StatusUpdate>({
      intervalMs: deps.updateIntervalMs,
      send: async (_key, update) => {
        await deps.poster.update(update.channel, update.ts, update.message);
      },
    });
  }

  /** A job reported progress: redraw its status message, at most once per interval. */
  progress(host: string, data: unknown): void {
    const parsed = jobProgressSchema.safeParse(data);
    if (!parsed.success || !parsed.data.slack?.statusTs) return;
    const p = parsed.data;
    this.pushStatus(p.slack!, { incidentId: p.incidentId, server: p.server, host, pipeline: p.pipeline, jobState: 'running', attempt: p.attempt, steps: p.steps });
  }

  /** An attempt failed and BullMQ scheduled the next one after its backoff. */
  async retrying(host: string, job: Job): Promise<void> {
    this.deps.metrics.jobs.inc({ state: 'retrying' });
    await this.refresh(host, job);
  }

  /** Redraws a job's status message from the incident record. */
  async refresh(host: string, job: Job): Promise<void> {
    const data = pipelineJobSchema.safeParse(job.data);
    if (!data.success || !data.data.slack?.statusTs) return;
    const incident = await this.deps.store.get(data.data.incidentId, { timeline: false });
    if (!incident || incident.jobId !== job.id) return;
    this.pushStatus(data.data.slack, viewOf(incident, host, incident.jobState ?? 'queued'));
  }

  /** The job's worker died or lost its lock; BullMQ put the job back (or failed it, which 'failed' reports). */
  async stalled(host: string, job: Job): Promise<void> {
    const data = pipelineJobSchema.safeParse(job.data);
    if (!data.success || !job.id) return;
    const { store, metrics } = this.deps;
    metrics.jobs.inc({ state: 'stalled' });
    const note = 'its worker stopped (killed or lost its lock); the job went back to the queue';
    if (await store.updateForJob(data.data.incidentId, job.id, { jobState: 'retrying', failure: note })) {
      await store.append(data.data.incidentId, { kind: 'retry', pipeline: data.data.pipeline, text: `${data.data.pipeline} stalled: ${note}` });
    }
    await this.refresh(host, job);
  }

  async completed(host: string, job: Job): Promise<void> {
    await this.once(job, 'completed', async (data, incident) => {
      await this.finalStatus(data, incident, host, 'done');
      const target = data.slack;
      const channel = target?.channel ?? incident.channel;
      const thread = target?.threadTs ?? incident.threadTs;
      const report = incident.report;
      const summary = report
        ? summaryMessage(report, summaryIncident(incident, host, data.pipeline))
        : noteMessage(`*${data.pipeline}* on *${incident.server}* finished without a report.`);
      const posted = await this.deps.poster.post(channel, summary, thread);
      if (!posted.ok) {
        await this.deps.store.append(incident.id, { kind: 'slack', pipeline: data.pipeline, text: `summary not posted yet: ${posted.error}` });
        return false;
      }
      await this.deps.store.update(incident.id, { summaryTs: posted.value });
      if (report) {
        const content = renderReportMarkdown(report, { incidentId: incident.id, server: incident.server, incidentDir: incident.incidentDir });
        const uploaded = await this.deps.poster.upload(channel, thread ?? posted.value, { filename: 'report.md', title: `${incident.id} report`, content });
        if (!uploaded.ok) await this.deps.store.append(incident.id, { kind: 'slack', text: `report.md not attached: ${uploaded.error}` });
      }
      await this.deps.store.append(incident.id, { kind: 'done', pipeline: data.pipeline, text: report ? `${data.pipeline} done: ${report.problemClass} → ${report.nextStep.skill}` : `${data.pipeline} done` });
      return true;
    });
  }

  async failed(host: string, job: Job, reason: string): Promise<void> {
    await this.once(job, 'failed', async (data, incident) => {
      const { store, poster } = this.deps;
      // A failed follow-up leaves an earlier verdict standing; a failed first capture fails the incident.
      if (!incident.report && incident.status === 'open') await store.update(incident.id, { status: 'failed' });
      await store.updateForJob(incident.id, job.id ?? '', { jobState: 'failed', failure: reason });
      await this.finalStatus(data, { ...incident, failure: reason }, host, 'failed');
      const attempts = Math.max(job.attemptsMade, 1);
      const posted = await poster.post(data.slack?.channel ?? incident.channel, failureMessage(summaryIncident(incident, host, data.pipeline), reason, attempts), data.slack?.threadTs ?? incident.threadTs);
      // Recorded once: a notice Slack refused is posted (and recorded) by a later reconcile pass.
      await store.append(incident.id, posted.ok ? { kind: 'failed', pipeline: data.pipeline, text: `${data.pipeline} failed after ${attempts} attempt(s): ${reason}` } : { kind: 'slack', pipeline: data.pipeline, text: `failure notice not posted yet: ${posted.error}` });
      return posted.ok;
    });
  }

  /**
   * A queued job no worker has taken within the window: say so in the thread, once per job, with
   * what to do. The job stays queued and runs as soon as a worker of the host takes it.
   */
  async notPickedUp(host: string, job: Job, windowMs: number): Promise<void> {
    const data = pipelineJobSchema.safeParse(job.data);
    if (!data.success || !job.id) return;
    const { store, poster, metrics } = this.deps;
    const incident = await store.get(data.data.incidentId, { timeline: false });
    if (!incident || incident.jobId !== job.id) return;
    const claim = `unpicked:${job.id}`;
    if (!(await store.claim(incident.id, claim))) return;
    metrics.jobs.inc({ state: 'unpicked' });
    const seconds = Math.round(windowMs / 1000);
    const text =
      `:hourglass_flowing_sand: No worker on \`${host}\` has picked up *${data.data.pipeline}* (\`${job.id}\`) within ${seconds} s; it is still queued. ` +
      `Start the worker on that host (\`TRIAGE_HOST=${host} npm run worker\`) or check why it is down; the job runs as soon as a worker takes it.`;
    const posted = await poster.post(data.data.slack?.channel ?? incident.channel, noteMessage(text), data.data.slack?.threadTs ?? incident.threadTs);
    if (!posted.ok) {
      await store.releaseClaim(incident.id, claim);
      return;
    }
    await store.append(incident.id, { kind: 'queued', pipeline: data.data.pipeline, text: `not picked up by a worker of ${host} within ${seconds} s` });
  }

  /** Sends whatever status redraws are pending (shutdown). */
  drain(): Promise<void> {
    return this.throttle.drain();
  }

  private async once(job: Job, outcome: 'completed' | 'failed', post: (data: PipelineJobData, incident: IncidentRecord) => Promise<boolean>): Promise<void> {
    const data = pipelineJobSchema.safeParse(job.data);
    if (!data.success || !job.id) return;
    const { store, metrics, logger } = this.deps;
    const incident = await store.get(data.data.incidentId, { timeline: false });
    if (!incident) return;
    const claim = `posted:${job.id}`;
    if (!(await store.claim(incident.id, claim))) return;
    metrics.jobs.inc({ state: outcome });
    if (job.finishedOn) metrics.jobSeconds.observe({ pipeline: data.data.pipeline, outcome }, (job.finishedOn - job.timestamp) / 1000);
    let delivered = false;
    try {
      delivered = await post(data.data, incident);
    } catch (err) {
      logger.error('posting a job result failed', { jobId: job.id, err });
    }
    if (!delivered) await store.releaseClaim(incident.id, claim);
  }

  private async finalStatus(data: PipelineJobData, incident: IncidentRecord, host: string, jobState: JobState): Promise<void> {
    if (!data.slack?.statusTs) return;
    const key = this.pushStatus(data.slack, viewOf(incident, host, jobState, data.pipeline));
    await this.throttle.flush(key);
  }

  private pushStatus(target: SlackTarget, view: Omit<Parameters<typeof statusMessage>[0], 'at'>): string {
    const ts = target.statusTs ?? '';
    const key = `${target.channel}|${ts}`;
    this.throttle.push(key, { channel: target.channel, ts, message: statusMessage({ ...view, at: this.deps.now().toISOString() }) });
    return key;
  }
}

function summaryIncident(incident: IncidentRecord, host: string, pipeline: string) {
  return { id: incident.id, server: incident.server, host, pipeline, incidentDir: incident.incidentDir };
}

function viewOf(incident: IncidentRecord, host: string, jobState: JobState, pipeline = incident.pipeline) {
  const steps: StepView[] = incident.steps;
  return {
    incidentId: incident.id,
    server: incident.server,
    host,
    pipeline,
    jobState,
    steps,
    ...(incident.attempt ? { attempt: incident.attempt } : {}),
    ...(incident.failure ? { failure: incident.failure } : {}),
  };
}
