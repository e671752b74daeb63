import type { Redis } from 'ioredis';
import { findServer, type AlertsConfig, type Registry } from '../../config/servers.js';
import type { IncidentStore } from '../../incident/store.js';
import type { IncidentRecord } from '../../incident/types.js';
import type { Logger } from '../../pipelines/types.js';
import { escapeMrkdwn, truncate } from '../../../templates/blocks-kit.js';
import { noteMessage } from '../../../templates/blocks.js';
import type { IncidentService } from '../incident-service.js';
import type { BotMetrics } from '../metrics.js';
import type { SlackPoster } from '../poster.js';
import type { Preflight } from '../preflight.js';
import type { Alert, AlertmanagerWebhook } from './schema.js';

export interface AlertIncidentsDeps {
  registry: Registry;
  /** servers.yaml `alerts`; unset: every alert is counted as unrouted and nothing opens. */
  config: AlertsConfig | undefined;
  redis: Redis;
  prefix: string;
  store: IncidentStore;
  incidents: IncidentService;
  poster: SlackPoster;
  preflight: Preflight;
  metrics: BotMetrics;
  logger: Logger;
  now: () => Date;
}

export type AlertOutcome = 'opened' | 'joined' | 'repeated' | 'resolved' | 'unregistered' | 'unmatched' | 'refused';
export type AlertSummary = Record<AlertOutcome, number>;

/** Who an alert-opened incident is "asked by" in the store and the audit trail. */
export const ALERTMANAGER_USER = 'alertmanager';

interface AlertState {
  incidentId: string;
  state: 'firing' | 'resolved';
}

/**
 * Alerts open incidents. A firing alert whose `serverLabel` names a REGISTERED server opens an
 * incident in `alerts.channel` and queues a capture on the server's host; the same fingerprint
 * (Alertmanager's repeats, a re-fire) joins that incident while it is open; a resolved alert adds
 * one line to its thread. An alert for any other server is counted and logged, never captured:
 * nothing from outside picks a URL.
 */
export class AlertIncidents {
  constructor(private readonly deps: AlertIncidentsDeps) {}

  async handle(webhook: AlertmanagerWebhook): Promise<AlertSummary> {
    const summary: AlertSummary = { opened: 0, joined: 0, repeated: 0, resolved: 0, unregistered: 0, unmatched: 0, refused: 0 };
    for (const alert of webhook.alerts) {
      const outcome = await this.one(alert);
      summary[outcome]++;
      this.deps.metrics.alerts.inc({ outcome });
    }
    return summary;
  }

  private key(fingerprint: string): string {
    return `${this.deps.prefix}:@alert:${fingerprint}`;
  }

  private async one(alert: Alert): Promise<AlertOutcome> {
    const { config, registry, logger } = this.deps;
    const name = alert.labels.alertname ?? 'alert';
    const label = config?.serverLabel ?? 'server';
    const serverName = alert.labels[label];
    const server = config && serverName ? findServer(registry, serverName) : undefined;
    if (!config || !server) {
      logger.warn('alert for no registered server: counted, not captured', {
        alertname: truncate(name, 100),
        [label]: serverName === undefined ? null : truncate(serverName, 100),
        fingerprint: alert.fingerprint,
        reason: config ? `label ${label} names no server in servers.yaml` : 'servers.yaml has no alerts block',
      });
      return 'unregistered';
    }
    const previous = await this.state(alert.fingerprint);
    const incident = previous ? await this.deps.store.get(previous.incidentId, { timeline: false }) : null;
    const open = incident && incident.status !== 'resolved' ? incident : null;

    if (alert.status === 'resolved') {
      if (!open || previous?.state === 'resolved') return 'unmatched';
      await this.setState(alert.fingerprint, { incidentId: open.id, state: 'resolved' });
      await this.line(open, `:white_check_mark: Alertmanager: *${e(name)}* resolved${alert.endsAt ? ` at ${e(alert.endsAt)}` : ''}.`);
      await this.deps.store.append(open.id, { kind: 'joined', by: ALERTMANAGER_USER, text: `alert ${name} resolved` });
      return 'resolved';
    }

    if (open) {
      await this.setState(alert.fingerprint, { incidentId: open.id, state: 'firing' });
      // Alertmanager repeats a firing alert every repeat_interval: the thread hears only of a re-fire.
      if (previous?.state === 'resolved') await this.line(open, `:rotating_light: Alertmanager: *${e(name)}* firing again${describe(alert)}`);
      await this.deps.store.append(open.id, { kind: 'joined', by: ALERTMANAGER_USER, text: `alert ${name} ${previous?.state === 'resolved' ? 'fired again' : 'repeated'}` });
      return previous?.state === 'resolved' ? 'joined' : 'repeated';
    }

    if (!server.host) {
      logger.error('alert not opened: the server has no host in servers.yaml, so no worker can capture it', { server: server.name, alertname: truncate(name, 100) });
      return 'refused';
    }
    const problem = await this.deps.preflight.check(config.channel, server.host);
    if (problem?.kind === 'not-in-channel') {
      logger.error('alert not opened: the bot is not a member of alerts.channel; invite it there', { channel: config.channel, alertname: truncate(name, 100), server: server.name });
      // A 5xx would make Alertmanager retry forever; the log and the metric say what to fix.
      return 'refused';
    }
    const started = await this.deps.incidents.capture(server, { user: ALERTMANAGER_USER, channel: config.channel });
    await this.setState(alert.fingerprint, { incidentId: started.incident.id, state: 'firing' });
    const thread = (await this.deps.store.get(started.incident.id, { timeline: false })) ?? started.incident;
    if (started.kind === 'started') {
      await this.line(thread, `:rotating_light: Alertmanager: *${e(name)}* firing on *${e(server.name)}*${describe(alert)}`);
      if (problem) await this.line(thread, problem.text.replace('Nothing was started.', 'The capture stays queued until a worker takes it.'));
      return 'opened';
    }
    // Another trigger (a person, a second alert) opened it first: this alert joins it.
    await this.line(thread, `:rotating_light: Alertmanager: *${e(name)}* is firing on *${e(server.name)}* too${describe(alert)}`);
    return 'joined';
  }

  private async line(incident: Pick<IncidentRecord, 'channel' | 'threadTs' | 'id'>, text: string): Promise<void> {
    const posted = await this.deps.poster.post(incident.channel, noteMessage(text), incident.threadTs);
    if (!posted.ok) await this.deps.store.append(incident.id, { kind: 'slack', text: `alert line not posted: ${posted.error}` });
  }

  private async state(fingerprint: string): Promise<AlertState | null> {
    const raw = await this.deps.redis.get(this.key(fingerprint));
    if (!raw) return null;
    try {
      const value = JSON.parse(raw) as Partial<AlertState>;
      return typeof value.incidentId === 'string' && (value.state === 'firing' || value.state === 'resolved') ? (value as AlertState) : null;
    } catch {
      return null;
    }
  }

  private async setState(fingerprint: string, state: AlertState): Promise<void> {
    await this.deps.redis.set(this.key(fingerprint), JSON.stringify(state), 'PX', 30 * 24 * 3600_000);
  }
}

function e(text: string): string {
  return escapeMrkdwn(truncate(text, 200));
}

function describe(alert: Alert): string {
  const about = alert.annotations.summary ?? alert.annotations.description;
  return `${alert.startsAt ? ` since ${e(alert.startsAt)}` : ''}${about ? `: ${e(about)}` : '.'}`;
}
