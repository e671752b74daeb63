import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Worker metrics, on a Registry of its own (never prom-client's global one). */
export function createWorkerMetrics(options: { host: string; defaults?: boolean }) {
  const registry = new Registry();
  registry.setDefaultLabels({ process: 'worker', host: options.host });
  if (options.defaults !== false) collectDefaultMetrics({ register: registry });
  return {
    registry,
    jobs: new Counter({
      name: 'triage_worker_jobs_total',
      help: 'Jobs processed by this worker, by pipeline and outcome (completed, retry, failed)',
      labelNames: ['pipeline', 'outcome'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'triage_worker_job_duration_seconds',
      help: 'Wall time of one job attempt',
      labelNames: ['pipeline', 'outcome'] as const,
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800],
      registers: [registry],
    }),
    active: new Gauge({ name: 'triage_worker_active_jobs', help: 'Jobs running now', registers: [registry] }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
