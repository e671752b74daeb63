import { PIPELINE_INFO, type PipelineInfo, type PipelineName } from './catalog.js';
import type { ReplaySettings, Stage } from './context.js';
import { baselineStage } from './stages/baseline.js';
import { crashAftermathStage } from './stages/crash-aftermath.js';
import { rankEvidenceStage, ncclLogStage } from './stages/hang-evidence.js';
import { crashDumpsStage, dumpSummaryStage, hostCoredumpsStage, requestDumpsStage, serverLogStage } from './stages/host-dumps.js';
import { profileStage } from './stages/profile.js';
import { regressionStages } from './stages/regression.js';
import { replayStage } from './stages/replay.js';
import { routeStage } from './stages/route.js';
import { startTargetStage, stopTargetStage } from './stages/start-target.js';
import { wrongOutputStages } from './stages/wrong-output.js';
import { hostDumpsIfNoneStage } from './stages/replay-inputs.js';

/**
 * Every pipeline as data: its stages in order, and how it replays. The runner (runner.ts) walks the
 * list; evidence stages are best effort, the clean target is always stopped, and the folder is always
 * routed. The names, intrusiveness and summaries are in catalog.ts, which transports import.
 */
export interface PipelineDefinition extends PipelineInfo {
  stages: readonly Stage[];
  replay?: ReplaySettings;
}

const define = (name: PipelineName, stages: readonly Stage[], replay?: ReplaySettings): PipelineDefinition => ({ ...PIPELINE_INFO[name], stages, ...(replay ? { replay } : {}) });

export const PIPELINES: Readonly<Record<PipelineName, PipelineDefinition>> = {
  capture: define('capture', [baselineStage, routeStage]),
  route: define('route', [routeStage]),
  auto: define('auto', [baselineStage, serverLogStage, crashDumpsStage, dumpSummaryStage, hostCoredumpsStage, routeStage]),
  replay: define('replay', [hostDumpsIfNoneStage, dumpSummaryStage, startTargetStage, replayStage, stopTargetStage, routeStage], { purpose: 'plain', parallel: 64, requestTimeoutS: 120, select: 'all' }),
  crash: define(
    'crash',
    [baselineStage, serverLogStage, crashDumpsStage, dumpSummaryStage, hostCoredumpsStage, startTargetStage, replayStage, crashAftermathStage, stopTargetStage, routeStage],
    { purpose: 'crash', parallel: 64, requestTimeoutS: 120, select: 'all' },
  ),
  hang: define(
    'hang',
    [baselineStage, serverLogStage, crashDumpsStage, dumpSummaryStage, startTargetStage, replayStage, rankEvidenceStage, ncclLogStage, stopTargetStage, routeStage],
    // A hang must surface as a finding within the step, not as a step timeout.
    { purpose: 'hang', parallel: 64, requestTimeoutS: 60, select: 'all', liveBundles: { afterS: 5, everyS: 20, max: 3 } },
  ),
  slow: define(
    'slow',
    [baselineStage, requestDumpsStage, dumpSummaryStage, startTargetStage, replayStage, profileStage, stopTargetStage, routeStage],
    { purpose: 'slow', parallel: 1, requestTimeoutS: 300, select: 'slowest' },
  ),
  regression: define('regression', [baselineStage, serverLogStage, crashDumpsStage, requestDumpsStage, dumpSummaryStage, ...regressionStages, routeStage]),
  'wrong-output': define(
    'wrong-output',
    [baselineStage, requestDumpsStage, crashDumpsStage, dumpSummaryStage, ...wrongOutputStages.before, startTargetStage, ...wrongOutputStages.replay, stopTargetStage, routeStage],
    { purpose: 'plain', parallel: 8, requestTimeoutS: 120, select: 'all' },
  ),
};

/** The stage that stops a managed target: the runner also runs it when a run fails or is cancelled. */
export const CLEANUP_STAGE = stopTargetStage;
