import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Bot metrics, on a Registry of its own (never prom-client's global one). */
export function createBotMetrics(options: { defaults?: boolean } = {}) {
  const registry = new Registry();
  registry.setDefaultLabels({ process: 'bot' });
  if (options.defaults !== false) collectDefaultMetrics({ register: registry });
  return {
    registry,
    commands: new Counter({
      name: 'triage_slack_commands_total',
      help: 'Slash commands and button actions, by name and outcome',
      labelNames: ['command', 'outcome'] as const,
      registers: [registry],
    }),
    ackSeconds: new Histogram({
      name: 'triage_slack_ack_seconds',
      help: 'Time from a Slack request reaching the listener to its ack',
      labelNames: ['command'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 3],
      registers: [registry],
    }),
    slackErrors: new Counter({
      name: 'triage_slack_api_errors_total',
      help: 'Slack Web API calls that failed (after retries) or were rate limited, by method and error',
      labelNames: ['method', 'error'] as const,
      registers: [registry],
    }),
    jobs: new Counter({
      name: 'triage_jobs_total',
      help: 'Queue job transitions seen by the bot (queued, joined, completed, failed, retrying, stalled)',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    alerts: new Counter({
      name: 'triage_alerts_total',
      help: 'Alertmanager alerts received, by outcome (opened, joined, repeated, resolved, unregistered, unmatched, refused)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    jobSeconds: new Histogram({
      name: 'triage_job_duration_seconds',
      help: 'From enqueue to the job finishing, by pipeline and outcome',
      labelNames: ['pipeline', 'outcome'] as const,
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers: [registry],
    }),
  };
}

export type BotMetrics = ReturnType<typeof createBotMetrics>;
