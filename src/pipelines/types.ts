import type { Dispatcher } from 'undici';
import type { NamedServer, Registry } from '../config/servers.js';
import type { Report } from '../contracts/report.js';
import type { Invocation } from '../triage/rule.js';
import type { PipelineName } from './catalog.js';
export type { PipelineName } from './catalog.js';

export type { ProgressSink, StepProgress, StepState } from '../contracts/progress.js';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Everything a pipeline needs from the outside, passed in (tests give real local servers and a temp dir). */
export interface PipelineDeps {
  registry: Registry;
  /** Environment used only to resolve a server's token env var. */
  env: Record<string, string | undefined>;
  /** undici dispatcher for all HTTP (tests may pass an Agent with short timeouts). */
  dispatcher?: Dispatcher;
  /** Environment of the GPU tools we run (cuda-gdb, py-spy, nvidia-smi); PATH decides which binaries. Default: ours. */
  toolEnv?: Record<string, string | undefined>;
  now: () => Date;
  logger: Logger;
  /** How commands printed in the report start `triage` (the entry detects it); default `triage`. */
  invocation?: Invocation;
  /** How to run this triage from a shell (the bisect harness calls `triage replay`); default `triage`. */
  selfCommand?: string[];
}


export interface PipelineRequest {
  pipeline: PipelineName;
  /** A registered server (the Slack path always resolves one) or an ad-hoc URL target (CLI only). */
  server: NamedServer | { name?: undefined; url: string; tokenEnv?: undefined; host?: undefined };
  incidentDir: string;
  /** Capture: per-request timeout seconds. */
  timeoutS?: number;
  /** Replay: target URL override. */
  target?: string;
  /** regression: the known-good and known-bad revisions (or build launch commands); run: run `git bisect` too. */
  regression?: { good: string; bad: string; run?: boolean; repo?: string };
  /** wrong-output: also send the greedy replay to production (intrusive, gated). */
  compareProduction?: boolean;
}

export interface PipelineResult {
  incidentDir: string;
  report: Report | null;
  /** SUMMARY.txt of the newest bundle, for attaching. */
  bundleSummary: string | null;
  /** Files written, absolute paths. */
  files: string[];
}
