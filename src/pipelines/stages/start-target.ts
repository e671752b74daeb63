import path from 'node:path';
import { resolveToken } from '../../config/servers.js';
import { patchIncident } from '../../incident/journal.js';
import { launchPlan } from '../../target/launch-plan.js';
import { probeHealth, startManagedTarget } from '../../target/managed-target.js';
import { shellQuote } from '../../util/shell-quote.js';
import type { RunContext, Stage } from '../context.js';

/**
 * The clean target this run replays on. The registry's `replay.url`, never production. When it does
 * not answer and `replay.managed` is true, start `replay.launch` in its own process group with what
 * the pipeline needs added (coredumps, crash-dump folder, NCCL logs); its output goes to logs/target.log.
 * A target that already answers is used as it is and never stopped by us.
 */
export const startTargetStage: Stage = {
  title: 'start the clean target',
  deadlineMs: (ctx) => ((ctx.server?.replay?.readyTimeoutS ?? 900) + 30) * 1000,
  skip: (ctx) => (targetUrl(ctx) ? null : (ctx.state.noTargetWhy = 'no clean replay target registered for this server (servers.yaml replay.url)')),
  async run(ctx, signal) {
    const url = targetUrl(ctx)!;
    const replay = ctx.server?.replay;
    const token = resolveToken(replay?.tokenEnv, ctx.deps.env);
    const probe = await probeHealth(url, { signal, ...(ctx.deps.dispatcher ? { dispatcher: ctx.deps.dispatcher } : {}), ...(token ? { token } : {}) });
    if (probe.kind !== 'down') {
      ctx.state.target = { kind: 'external', url };
      return probe.kind === 'ready' ? `${url} already answers; using it as it is (not started by triage, so not stopped either)` : `${url} answers HTTP ${probe.status} on /health; using it as it is`;
    }
    const overridden = ctx.req.target !== undefined && ctx.req.target !== replay?.url;
    if (!replay?.managed || !replay.launch || overridden) {
      ctx.state.noTargetWhy = `the clean target ${url} does not answer (${probe.reason})${replay?.launch ? `; start it with: ${replay.launch}` : ''}${replay?.managed ? '' : ' (or set replay.managed: true so triage starts and stops it)'}`;
      return `skipped: ${ctx.state.noTargetWhy}`;
    }
    const plan = launchPlan(replay.launch, ctx.replay?.purpose ?? 'plain', { replayDir: ctx.paths.replay, coredumpsDir: ctx.paths.coredumps, logsDir: ctx.paths.logs });
    const logFile = path.join(ctx.paths.logs, 'target.log');
    ctx.tick(startTargetStage.title, `starting: ${plan.command}`);
    const target = await startManagedTarget(
      { url, plan, logFile, readyTimeoutS: replay.readyTimeoutS, graceMs: replay.stopGraceS * 1000 },
      {
        env: ctx.deps.toolEnv ?? ctx.deps.env,
        signal,
        ...(ctx.deps.dispatcher ? { dispatcher: ctx.deps.dispatcher } : {}),
        ...(token ? { token } : {}),
        onProgress: (detail) => ctx.tick(startTargetStage.title, detail),
      },
    );
    ctx.state.target = { kind: 'managed', target };
    await patchIncident(ctx.paths.root, { target: { url, pid: target.pid, pgid: target.pgid, startedAt: target.startedAt.toISOString() } }, ctx.now());
    const env = Object.entries(plan.env).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ');
    return `started (process group ${target.pgid}), ready in ${(target.readyAfterMs / 1000).toFixed(1)} s; ${env ? `env ${env}; ` : ''}log ${path.relative(ctx.paths.root, logFile)}`;
  },
};

/** Stops what startTargetStage started; the runner also calls it when the run fails or is cancelled. */
export const stopTargetStage: Stage = {
  title: 'stop the clean target',
  deadlineMs: (ctx) => ((ctx.server?.replay?.stopGraceS ?? 10) + 20) * 1000,
  skip: (ctx) => (ctx.state.target?.kind === 'managed' ? null : ctx.state.target ? 'the target was already running before this pipeline: left as it is' : 'no target was started'),
  run: (ctx) => stopManagedTarget(ctx),
};

export async function stopManagedTarget(ctx: RunContext): Promise<string> {
  const handle = ctx.state.target;
  if (handle?.kind !== 'managed') return 'nothing to stop';
  const before = (await handle.target.members()).length;
  const r = await handle.target.stop();
  ctx.state.targetStopped = true;
  const exit = handle.target.exit();
  await patchIncident(ctx.paths.root, { target: { url: handle.target.url, pid: handle.target.pid, pgid: handle.target.pgid, startedAt: handle.target.startedAt.toISOString(), stoppedAt: ctx.now().toISOString(), stop: r.kind } }, ctx.now());
  const how = r.kind === 'gone' ? `it had already exited (${exit?.signal ?? `exit ${exit?.code}`})` : r.kind === 'exited' ? `SIGTERM: all ${before} process(es) exited in ${(r.afterMs / 1000).toFixed(1)} s` : `SIGKILL after the grace period (${before} process(es))`;
  return `process group ${handle.target.pgid}: ${how}`;
}

/** The target URL for this run: an explicit override, else the server's registered clean target. */
export function targetUrl(ctx: RunContext): string | undefined {
  return ctx.req.target ?? ctx.server?.replay?.url;
}
