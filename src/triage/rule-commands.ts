import path from 'node:path';
import { incidentPaths } from '../incident/layout.js';
import { captureCommand, copyDumpsCommand, curlPost, curlPostJson, dumpSummaryCommand, replayCommand, replayTargetUrl, routeCommand, saveAndReplaySteps } from './next-commands.js';
import type { RouteContext } from './rule.js';
import { and, annotate, command, commentLine, fixedNote, glob, note, pathArg, pipe } from './shell.js';
import { hangCollectionCommands } from './rules/gpu-evidence/commands.js';

/** Next-step commands of the bundle, health, slow, replay and driver rules. Pure; every value quoted by shell.ts. */

/** A dead server: read what it left behind (log tail, crash dump) before restarting it. */
export function postMortemCommands(ctx: RouteContext): string[] {
  const p = incidentPaths(ctx.incidentDir);
  const log = ctx.server?.logFile;
  const crashDir = ctx.server?.crashDumpDir;
  const steps: string[] = [];
  if (log) {
    steps.push(
      annotate(pipe(command(['grep', '-nE', 'Dumped [0-9]+ finished and [0-9]+ unfinished requests|Scheduler hit an exception|CUDA error|OutOfMemoryError|watchdog|Xid', pathArg(log)]), command(['tail', '-n', '40'])), { where: 'gpu-host' }),
      annotate(and(command(['mkdir', '-p', pathArg(p.logs)]), command(['tail', '-n', '300', pathArg(log)], { stdout: pathArg(path.join(p.logs, 'server-tail.log')) })), { where: 'gpu-host' }),
    );
  } else {
    steps.push(commentLine(fixedNote('no logFile registered for this server: copy the end of its log into logs/ of the incident folder')));
  }
  if (crashDir) {
    steps.push(annotate(pipe(command(['ls', '-lt', glob(crashDir, '*/crash_dump_*.pkl')]), command(['head'])), { where: 'gpu-host' }));
    steps.push(dumpSummaryCommand(ctx, crashDir));
  }
  steps.push(copyDumpsCommand(ctx, 'crash'), routeCommand(ctx), captureCommand(ctx, 'baseline'));
  return steps;
}

/** A scheduler that stopped producing tokens on the live server: collect from its ranks, route again. */
export function liveHangCommands(ctx: RouteContext, multiRank: boolean): string[] {
  return [
    ...hangCollectionCommands(ctx, [], 'production'),
    routeCommand(ctx),
    ...(multiRank ? [commentLine(note`then re-run the replay with collective logging (NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=COLL on the clean target)`)] : []),
  ];
}

/** Profile a second replay on the clean target once the first reproduced the slowness (never production). */
export function profileCommands(ctx: RouteContext, targetUrl = replayTargetUrl(ctx)): string[] {
  const dir = incidentPaths(ctx.incidentDir).root;
  const profiles = path.join(dir, 'profiles');
  const body = { output_dir: profiles, num_steps: 5, activities: ['CPU', 'GPU'], record_shapes: true };
  return [
    commentLine(fixedNote('once the replay reproduces the slowness, profile a second replay on the clean target:')),
    curlPostJson(`${targetUrl.replace(/\/+$/, '')}/start_profile`, body, ctx.server?.replayTokenEnv),
    replayCommand(ctx, ['--parallel', '1']),
    annotate(command(['ls', glob(profiles, '*.trace.json.gz')]), { note: fixedNote('open with llm-torch-profiler-analysis') }),
  ];
}

/** Slow, with the bundle pointing at compute: save, replay, then profile the replay. */
export function computeSlowCommands(ctx: RouteContext, replayed: boolean): string[] {
  return [...(replayed ? [] : saveAndReplaySteps(ctx, 'request')), ...profileCommands(ctx)];
}

/** Queue or KV pressure: save and replay, then review capacity (numbers only in the note). */
export function queuePressureCommands(ctx: RouteContext, capacity: { maxTotalTokens: number | null | undefined; maxRunningRequests: number | null | undefined }): string[] {
  return [
    ...saveAndReplaySteps(ctx, 'request'),
    commentLine(note`capacity now: max_total_num_tokens=${capacity.maxTotalTokens} max_running_requests=${capacity.maxRunningRequests}`),
    commentLine(fixedNote('knobs to review: --max-running-requests, --mem-fraction-static, --chunked-prefill-size, --schedule-conservativeness, more DP replicas (--dp-size)')),
  ];
}

/** The replay reproduced slowness: profile a replay on that target (the URL replay.json names). */
export function replayProfileCommands(ctx: RouteContext, targetBase: string): string[] {
  const profiles = path.join(incidentPaths(ctx.incidentDir).root, 'profiles');
  return [
    curlPostJson(`${targetBase.replace(/\/+$/, '')}/start_profile`, { output_dir: profiles }, ctx.server?.replayTokenEnv),
    replayCommand(ctx, ['--parallel', '1']),
    curlPost(`${targetBase.replace(/\/+$/, '')}/stop_profile`, ctx.server?.replayTokenEnv),
  ];
}

/** A replay-time bundle of the clean target, then route. */
export function targetBundleCommands(ctx: RouteContext, targetBase: string): string[] {
  return [captureCommand(ctx, 'replay/bundle', { url: targetBase }), routeCommand(ctx)];
}

/** A hardware Xid: the driver's view for the hardware team. */
export function xidCommands(ctx: RouteContext): string[] {
  const p = incidentPaths(ctx.incidentDir);
  return [
    annotate(and(command(['mkdir', '-p', pathArg(p.gpu), pathArg(p.logs)]), command(['nvidia-smi', '-q', '-x'], { stdout: pathArg(path.join(p.gpu, 'nvidia-smi-q.xml')) })), { where: 'gpu-host' }),
    annotate(pipe(command(['dmesg', '-T']), command(['grep', '-E', 'NVRM|Xid'], { stdout: pathArg(path.join(p.logs, 'xid.txt')) })), { where: 'gpu-host' }),
    annotate(
      command(['nvidia-smi', '--query-remapped-rows=gpu_bus_id,remapped_rows.correctable,remapped_rows.uncorrectable,remapped_rows.pending,remapped_rows.failure', '--format=csv'], {
        stdout: pathArg(path.join(p.gpu, 'remapped-rows.csv')),
      }),
      { where: 'gpu-host' },
    ),
    routeCommand(ctx),
  ];
}
