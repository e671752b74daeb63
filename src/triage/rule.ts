import type { Evidence } from '../evidence/types.js';
import type { EvidenceRef, Facts, NextStep, ProblemClass } from '../contracts/report.js';
import type { Invocation } from '../config/invocation.js';

export type { Invocation };

/** What the router knows about where the incident came from; used to fill in exact commands. */
export interface RouteContext {
  /** The folder that was scanned (incident folder or bare bundle folder). */
  root: string;
  /** The incident folder the commands should write into (defaults to root). */
  incidentDir: string;
  /** How printed `triage` commands start where they are printed; default `triage` with no `--servers`. */
  invocation?: Invocation;
  /** Set when a pipeline started the clean target itself and replayed there (incident.json `target`). */
  closedLoop?: { pipeline: string; targetUrl: string };
  /** The live server, when known (incident.json, bundle metadata.json or the registry). */
  server?: {
    name?: string;
    url: string;
    /** Env var holding its bearer token: commands reference "$VAR", never the value. */
    tokenEnv?: string;
    /** Env var holding the admin key, for ADMIN_OPTIONAL routes such as /configure_logging. */
    adminTokenEnv?: string;
    logFile?: string;
    crashDumpDir?: string;
    requestDumpDir?: string;
    /** Launch command of a clean replay target, secrets already redacted. */
    replayLaunch?: string;
    /** URL of a clean replay target, when one is registered. */
    replayTargetUrl?: string;
    /** Env var holding the clean replay target's key (ADMIN_OPTIONAL /start_profile there). */
    replayTokenEnv?: string;
    /** pgrep -f pattern of its scheduler processes (servers.yaml schedulerProcessPattern). */
    schedulerProcessPattern?: string;
  };
}


/** One rule's answer. The router keeps the highest `priority`; ties go to the earlier rule. */
export interface Verdict {
  rule: string;
  priority: number;
  problemClass: ProblemClass;
  strongestSignal: string;
  bestGuess: string;
  ruledOut: string[];
  nextStep: NextStep;
  productionRisk: string;
  facts: Facts;
  evidence: EvidenceRef[];
}

export interface Rule {
  id: string;
  evaluate(evidence: Evidence, ctx: RouteContext): Verdict | null;
}

/** Priority bands, so rules written apart still order sensibly. */
export const PRIORITY = {
  /** A located GPU fault (cuda-gdb / sanitizer / CUDA error line). */
  gpuFault: 100,
  /** A located collective stall (NCCL divergence, stuck NCCL kernel). */
  collectiveHang: 90,
  oom: 85,
  cpuException: 80,
  /**
   * A hang shown on a live process (a kernel that never finishes, a host thread parked in a synchronize,
   * a busy GPU). Above `unhealthy`: a refused capture ("server down") says only that HTTP did not answer,
   * and live processes contradict it. Live beats dead.
   */
  liveHang: 75,
  schedulerStall: 70,
  unhealthy: 60,
  slow: 50,
  weak: 20,
  fallback: 0,
} as const;
