import path from 'node:path';

/** The incident folder layout (DESIGN.md "Incident folder"). Other tools rely on these names. */
export const INCIDENT_SUBDIRS = ['baseline', 'replay', 'dumps', 'stacks', 'coredumps', 'logs', 'gpu'] as const;
export type IncidentSubdir = (typeof INCIDENT_SUBDIRS)[number];

export interface IncidentPaths {
  root: string;
  incidentJson: string;
  baseline: string;
  replay: string;
  replayJson: string;
  dumps: string;
  dumpSummary: string;
  stacks: string;
  coredumps: string;
  logs: string;
  gpu: string;
  reportJson: string;
  reportMd: string;
}

export function incidentPaths(root: string): IncidentPaths {
  const abs = path.resolve(root);
  return {
    root: abs,
    incidentJson: path.join(abs, 'incident.json'),
    baseline: path.join(abs, 'baseline'),
    replay: path.join(abs, 'replay'),
    replayJson: path.join(abs, 'replay', 'replay.json'),
    dumps: path.join(abs, 'dumps'),
    dumpSummary: path.join(abs, 'dumps', 'dump-summary.json'),
    stacks: path.join(abs, 'stacks'),
    coredumps: path.join(abs, 'coredumps'),
    logs: path.join(abs, 'logs'),
    gpu: path.join(abs, 'gpu'),
    reportJson: path.join(abs, 'report.json'),
    reportMd: path.join(abs, 'report.md'),
  };
}

/** Incident ids sort by time and name their server: inc-20261128-0116-prod-a-3f9c. */
export function newIncidentId(server: string, now: Date, random: () => number = Math.random): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 13);
  const suffix = Math.floor(random() * 0xffff).toString(16).padStart(4, '0');
  const safe = server.replace(/[^a-z0-9.-]/gi, '-').slice(0, 40);
  return `inc-${stamp}-${safe}-${suffix}`;
}
