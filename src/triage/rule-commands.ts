import path from 'node:path';
import { incidentPaths } from '../incident/layout.js';
import { captureCommand, copyDumpsCommand, curlPost, curlPostJson, dumpSummaryCommand, replayCommand, replayTargetUrl, routeCommand, saveAndReplaySteps } from './next-commands.js';
import type { RouteContext } from './rule.js';
import { and, annotate, command, commentLine, fixedNote, glob, note, pathArg, pipe, seq } from './shell.js';
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

/** regression: the bisect the harness drives, rebuilt from the plan's fields (never its stored command text). */
export function bisectCommands(plan: { good: string; bad: string; harness: string; firstBadCommit?: string | null | undefined; ran?: boolean }): string[] {
  // A ref git would read as an option is never printed.
  const ref = (r: string) => !r.startsWith('-');
  if (plan.ran && plan.firstBadCommit && ref(plan.firstBadCommit)) return [command(['git', 'show', plan.firstBadCommit]), command(['git', 'bisect', 'log'])];
  if (!ref(plan.good) || !ref(plan.bad)) return [commentLine(fixedNote('a good or bad ref starts with "-": run git bisect start BAD GOOD by hand'))];
  return [
    command(['git', 'bisect', 'start', plan.bad, plan.good]),
    command(['git', 'bisect', 'run', pathArg(plan.harness)]),
    command(['git', 'bisect', 'log']),
    command(['git', 'bisect', 'reset']),
  ];
}

/** wrong output with identity drift: both server_info.json files normalised by jq, then diffed (POSIX sh: no process substitution). */
export function identityDiffCommands(ctx: RouteContext, baselineDir: string): string[] {
  const compare = path.join(incidentPaths(ctx.incidentDir).root, 'compare');
  const before = path.join(compare, 'server_info.before.json');
  const now = path.join(compare, 'server_info.now.json');
  return [
    seq(
      and(
        command(['mkdir', '-p', pathArg(compare)]),
        command(['jq', '-S', '.', pathArg(path.join(baselineDir, 'server_info.json'))], { stdout: pathArg(before) }),
        command(['jq', '-S', '.', pathArg(path.join(ctx.incidentDir, 'baseline', 'server_info.json'))], { stdout: pathArg(now) }),
      ),
      command(['diff', pathArg(before), pathArg(now)]),
    ),
  ];
}

/** wrong output, identity matching: the replays whose greedy output differs. */
export function differingOutputsCommands(ctx: RouteContext): string[] {
  return [command(['jq', '.results[] | select(.same == false)', pathArg(path.join(ctx.incidentDir, 'compare', 'outputs.json'))])];
}

/** The clean target died with no coredump: the end of its own log (logs/target.log) holds the exception. */
export function targetLogCommands(ctx: RouteContext): string[] {
  const log = pathArg(path.join(incidentPaths(ctx.incidentDir).logs, 'target.log'));
  return [command(['tail', '-n', '200', log]), command(['grep', '-n', '-A30', 'Traceback', log])];
}

/** SGLang's llm-torch-profiler-analysis on each trace (or trace folder), from an SGLang checkout. */
export function profileAnalysisCommands(script: string, inputs: readonly string[]): string[] {
  return [commentLine(fixedNote('from an SGLang checkout (the skill lives in its .claude/skills):')), ...inputs.map((input) => command(['python3', script, '--input', pathArg(input)]))];
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
