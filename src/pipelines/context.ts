import type { NamedServer } from '../config/servers.js';
import type { Report } from '../contracts/report.js';
import type { LogCopy } from '../evidence/collect/host-evidence.js';
import type { IncidentPaths } from '../incident/layout.js';
import type { ManagedTarget } from '../target/managed-target.js';
import type { TargetPurpose } from '../target/launch-plan.js';
import type { StepHost } from './run-step.js';
import type { PipelineDeps, PipelineRequest } from './types.js';

/** How a pipeline replays: what it selects, how hard it pushes, and what the target is started for. */
export interface ReplaySettings {
  purpose: TargetPurpose;
  /** Requests in flight at most. */
  parallel: number;
  /** Per replayed request, unless `triage run --timeout S` says otherwise. */
  requestTimeoutS: number;
  /** Which saved requests: the whole dump in recorded order, or the slowest saved request alone. */
  select: 'all' | 'slowest';
  /** hang: take replay-time bundles while a request is overdue. */
  liveBundles?: { afterS: number; everyS: number; max: number };
}

/** The clean target a pipeline replays on: started by us (managed) or found already running. */
export type TargetHandle = { kind: 'managed'; target: ManagedTarget } | { kind: 'external'; url: string };

export interface ReplayState {
  file: string;
  reproduced: unknown;
  requests: number;
  why: string;
  bundles: string[];
  ttftMedianMs: number | null;
}

/** What the stages of one run share. Each stage reads what earlier ones left and adds its own. */
export interface RunState {
  bundleSummary: string | null;
  files: string[];
  log?: LogCopy;
  target?: TargetHandle;
  /** Set once a managed target was stopped, so the runner's cleanup does not stop it twice. */
  targetStopped?: boolean;
  /** Why no replay could run (no target registered, target down and unmanaged): shown on every later skip. */
  noTargetWhy?: string;
  replay?: ReplayState;
  report?: Report;
  /** Replay-time bundles taken so far (replay/bundle-N). */
  bundleCount?: number;
}

export interface RunContext extends StepHost {
  req: PipelineRequest;
  deps: PipelineDeps;
  paths: IncidentPaths;
  /** The registry entry when the request names a registered server (an ad-hoc URL has no host paths). */
  server: NamedServer | undefined;
  replay: ReplaySettings | undefined;
  state: RunState;
  /** Live progress of a long step (counters) without a timeline entry. */
  tick: (step: string, detail: string, counters?: Record<string, number>) => void;
}

/** One stage of a pipeline: a module under stages/. */
export interface Stage {
  /** Shown in progress, the timeline and Slack. */
  title: string;
  deadlineMs: (ctx: RunContext) => number;
  /** A reason to skip this stage in this run, or null to run it. */
  skip?: (ctx: RunContext) => string | null;
  /** Does the work; returns the one-line detail for the timeline. */
  run: (ctx: RunContext, signal: AbortSignal) => Promise<string>;
}

export const MINUTE = 60_000;
