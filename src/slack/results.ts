import type { Job } from 'bullmq';
import type { IncidentStore } from '../incident/store.js';
import type { IncidentRecord, JobState, StepView } from '../incident/types.js';
import type { Logger } from '../pipelines/types.js';
import { evidenceFingerprint } from '../incident/lifecycle.js';
import { INTRUSIVE_PIPELINES, PIPELINE_FOR_SKILL } from '../pipelines/catalog.js';
import type { Report } from '../contracts/report.js';
import { jobProgressSchema, pipelineJobSchema, type PipelineJobData, type SlackTarget } from '../queue/jobs.js';
import { failureMessage, noChangeMessage, noteMessage, summaryMessage, type SlackMessage } from '../../templates/blocks.js';
import { renderReportMarkdown } from '../../templates/report-markdown.js';
import { slackLine } from '../../templates/sanitize.js';
import { statusMessage, type StatusView } from '../../templates/status-blocks.js';
import type { BotMetrics } from './metrics.js';
import type { SlackPoster } from './poster.js';
import type { RootMessages } from './root-messages.js';
import { UpdateThrottle } from './throttle.js';

export interface ResultPosterDeps {
  store: IncidentStore;
  poster: SlackPoster;
  roots: RootMessages;
  metrics: BotMetrics;
  logger: Logger;
  now: () => Date;
  /** At most one chat.update per status message per interval (Slack: about one a second per message). */
  updateIntervalMs: number;
  /** A running job's status message is redrawn at least this often, so elapsed time and deadline stay live. */
  liveRefreshMs?: number;
}

/** A running job's status: redrawn on every progress report, and by the refresh tick when the pipeline is quiet. */
interface LiveStatus {
  target: SlackTarget;
  view: Omit<StatusView, 'at'>;
  drawnAt: number;
}

const DEFAULT_LIVE_REFRESH_MS = 10_000;
/** A job silent this long is no longer redrawn (its worker is gone; the stalled/failed events take over). */
const LIVE_FORGET_MS = 60 * 60_000;

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
  private readonly live = new Map<string, LiveStatus & { lastEventAt: number }>();
  /** Status messages already drawn final: a late progress event must not bring "running" back. */
  private readonly finished = new Set<string>();
  private readonly ticker: NodeJS.Timeout;
  private readonly liveRefreshMs: number;

  constructor(private readonly deps: ResultPosterDeps) {
    this.throttle = new UpdateThrottle<StatusUpdate>({
      intervalMs: deps.updateIntervalMs,
      send: async (_key, update) => {
        await deps.poster.update(update.channel, update.ts, update.message);
      },
    });
    this.liveRefreshMs = deps.liveRefreshMs ?? DEFAULT_LIVE_REFRESH_MS;
    this.ticker = setInterval(() => this.refreshLive(), Math.max(50, Math.floor(this.liveRefreshMs / 2)));
    this.ticker.unref();
  }

  /** A job reported progress (steps, a long step's counters and deadline): redraw, at most once per interval. */
  progress(host: string, data: unknown): void {
    const parsed = jobProgressSchema.safeParse(data);
    if (!parsed.success || !parsed.data.slack?.statusTs) return;
    const p = parsed.data;
    const target = p.slack!;
    if (this.finished.has(`${target.channel}|${target.statusTs}`)) return;
    const view = { incidentId: p.incidentId, server: p.server, host, pipeline: p.pipeline, jobState: 'running' as const, attempt: p.attempt, steps: p.steps };
    const key = this.pushStatus(target, view);
    const now = Date.now();
    this.live.set(key, { target, view, drawnAt: now, lastEventAt: now });
  }

  /** Quiet running steps are redrawn every liveRefreshMs, so "running 4 min · deadline in 1 min" stays true. */
  private refreshLive(): void {
    const now = Date.now();
    for (const [key, status] of this.live) {
      if (now - status.lastEventAt > LIVE_FORGET_MS) {
        this.live.delete(key);
        continue;
      }
      if (now - status.drawnAt < this.liveRefreshMs) continue;
      status.drawnAt = now;
      this.pushStatus(status.target, status.view);
    }
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
    const key = this.pushStatus(data.data.slack, viewOf(incident, host, incident.jobState ?? 'queued'));
    // Retrying or back in the queue: not "running" until the next attempt reports progress.
    if (incident.jobState !== 'running') this.live.delete(key);
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

  /**
   * A job finished: one summary with report.md, and the older summary redrawn without its buttons.
   * A verdict equal to the one already shown (same evidence fingerprint) is a one-line "no change"
   * instead. The pipeline is remembered with the fingerprint of what it produced, so "Run next
   * step" can say it already ran on this evidence instead of looping.
   */
  async completed(host: string, job: Job): Promise<void> {
    await this.once(job, 'completed', async (data, incident) => {
      await this.finalStatus(data, incident, host, 'done');
      const { store, poster } = this.deps;
      const target = data.slack;
      const channel = target?.channel ?? incident.channel;
      const thread = target?.threadTs ?? incident.threadTs;
      const report = incident.report;
      const jobId = job.id ?? '';
      if (!report) {
        const posted = await poster.post(channel, noteMessage(`*${slackLine(data.pipeline)}* on *${slackLine(incident.server)}* finished without a report.`), thread);
        if (!posted.ok) return this.notPosted(incident.id, data.pipeline, posted.error);
        await store.append(incident.id, { kind: 'done', pipeline: data.pipeline, text: `${data.pipeline} done` });
        await this.deps.roots.refresh(incident);
        return true;
      }
      const fingerprint = evidenceFingerprint(report);
      const ranOn = { ...(incident.ranOn ?? {}), [data.pipeline]: fingerprint };
      const view = summaryIncident(incident, host, data.pipeline);
      if (incident.result && incident.result.fingerprint === fingerprint) {
        const posted = await poster.post(channel, noChangeMessage(view, report), thread);
        if (!posted.ok) return this.notPosted(incident.id, data.pipeline, posted.error);
        await store.update(incident.id, { ranOn });
        // The live summary's "Run next step" may now have to say its pipeline already ran.
        await this.redrawSummary({ ...incident, ranOn }, host);
        await store.append(incident.id, { kind: 'done', pipeline: data.pipeline, text: `${data.pipeline} done: no change (${report.problemClass} → ${report.nextStep.skill})` });
        await this.deps.roots.refresh(incident);
        return true;
      }
      const summary = summaryMessage(report, view, { jobId, next: nextStepView(report, ranOn, fingerprint) });
      const posted = await poster.post(channel, summary, thread);
      if (!posted.ok) return this.notPosted(incident.id, data.pipeline, posted.error);
      const previous = incident.result;
      await store.update(incident.id, { summaryTs: posted.value, ranOn, result: { jobId, ts: posted.value, pipeline: data.pipeline, fingerprint, report } });
      if (previous) {
        const old = summaryMessage(previous.report, summaryIncident(incident, host, previous.pipeline), { jobId: previous.jobId, superseded: true, next: nextStepView(previous.report, ranOn, previous.fingerprint) });
        const redrawn = await poster.update(channel, previous.ts, old);
        if (!redrawn.ok) await store.append(incident.id, { kind: 'slack', text: `older summary still has live buttons: ${redrawn.error}` });
      }
      const content = renderReportMarkdown(report, { incidentId: incident.id, server: incident.server, incidentDir: incident.incidentDir });
      const uploaded = await poster.upload(channel, thread ?? posted.value, { filename: 'report.md', title: `${incident.id} report`, content });
      if (!uploaded.ok) await store.append(incident.id, { kind: 'slack', text: `report.md not attached: ${uploaded.error}` });
      await store.append(incident.id, { kind: 'done', pipeline: data.pipeline, text: `${data.pipeline} done: ${report.problemClass} → ${report.nextStep.skill}` });
      await this.deps.roots.refresh(incident);
      return true;
    });
  }

  /** The live summary drawn again from what it showed (its next-step button may have changed). */
  private async redrawSummary(incident: IncidentRecord, host: string): Promise<void> {
    const result = incident.result;
    if (!result) return;
    const message = summaryMessage(result.report, summaryIncident(incident, host, result.pipeline), { jobId: result.jobId, next: nextStepView(result.report, incident.ranOn ?? {}, result.fingerprint) });
    await this.deps.poster.update(incident.channel, result.ts, message);
  }

  private async notPosted(id: string, pipeline: string, error: string): Promise<false> {
    await this.deps.store.append(id, { kind: 'slack', pipeline, text: `summary not posted yet: ${error}` });
    return false;
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
      if (posted.ok) await this.deps.roots.refresh(incident);
      return posted.ok;
    });
  }

  /** Sends whatever status redraws are pending (shutdown). */
  drain(): Promise<void> {
    clearInterval(this.ticker);
    this.live.clear();
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
    const liveKey = `${data.slack.channel}|${data.slack.statusTs}`;
    this.live.delete(liveKey);
    this.finished.add(liveKey);
    if (this.finished.size > 10_000) this.finished.delete(this.finished.values().next().value as string);
    const key = this.pushStatus(data.slack, viewOf(incident, host, jobState, data.pipeline));
    await this.throttle.flush(key);
  }

  private pushStatus(target: SlackTarget, view: Omit<StatusView, 'at'>): string {
    const ts = target.statusTs ?? '';
    const key = `${target.channel}|${ts}`;
    this.throttle.push(key, { channel: target.channel, ts, message: statusMessage({ ...view, at: this.deps.now().toISOString() }) });
    return key;
  }
}

/** The catalog's pipeline for the report's next skill, and whether it already produced this verdict. */
export function nextStepView(report: Report, ranOn: Readonly<Record<string, string>>, fingerprint: string) {
  const pipeline = PIPELINE_FOR_SKILL[report.nextStep.skill];
  return { pipeline, intrusive: pipeline !== null && INTRUSIVE_PIPELINES.has(pipeline), alreadyRan: pipeline !== null && ranOn[pipeline] === fingerprint };
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
