import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { resolveToken } from '../../config/servers.js';
import { loadReplayRequests } from '../../evidence/dump/load.js';
import { patchIncident } from '../../incident/journal.js';
import { runReplay, type ReplayProgress } from '../../replay/engine.js';
import { buildDocument, writeReplayJson, type ReplayDocument } from '../../replay/report.js';
import type { ReplayRequest } from '../../replay/types.js';
import { captureStep } from '../capture-step.js';
import { MINUTE, type RunContext, type Stage } from '../context.js';

/**
 * Replay the saved requests on the clean target, with a deadline on every request (`triage run
 * --timeout S`, else the pipeline's own). For a hang, replay-time bundles of the target are taken while
 * a request is overdue (replay/bundle-N), and one more after the replay: how the target degrades is the
 * hang's fingerprint. Progress (sent, done, failed) goes out every few seconds.
 */
export const replayStage: Stage = {
  title: 'replay on the clean target',
  deadlineMs: (ctx) => 20 * MINUTE + requestTimeoutS(ctx) * 1000,
  skip: (ctx) => (ctx.state.target ? null : `skipped: ${ctx.state.noTargetWhy ?? 'no clean target is running'}`),
  async run(ctx, signal) {
    const pkl = (await readdir(ctx.paths.dumps).catch(() => [] as string[])).filter((f) => f.endsWith('.pkl'));
    if (pkl.length === 0) return 'skipped: no dumps to replay (no crash or request dump was found)';
    const { requests: all, files } = await loadReplayRequests(ctx.paths.dumps, { signal });
    const requests = select(all, ctx.replay?.select ?? 'all');
    const doc = await replayOnce(ctx, signal, requests, { bundles: ctx.replay?.liveBundles, files });
    ctx.state.replay = {
      file: ctx.paths.replayJson,
      reproduced: doc.reproduced,
      requests: doc.requests.length,
      why: doc.reproducedWhy,
      bundles: ctx.state.replay?.bundles ?? [],
      ttftMedianMs: doc.totals.ttftMs.p50 ?? doc.totals.e2eMs.p50,
    };
    await patchIncident(ctx.paths.root, { reproduced: doc.reproduced as boolean | string }, ctx.now());
    const o = doc.totals.outcomes;
    return `${doc.requests.length} request(s) on ${doc.target}: ok ${o.ok ?? 0}, timeout ${o.timeout ?? 0}, failed ${doc.requests.length - (o.ok ?? 0) - (o.timeout ?? 0)}; reproduced: ${String(doc.reproduced)}`;
  },
};

export function requestTimeoutS(ctx: RunContext): number {
  return ctx.req.timeoutS ?? ctx.replay?.requestTimeoutS ?? 120;
}

export function targetBaseUrl(ctx: RunContext): string {
  const t = ctx.state.target!;
  return t.kind === 'managed' ? t.target.url : t.url;
}

/** One replay with live progress; writes replay/replay.json unless told not to (a profiled second run). */
export async function replayOnce(
  ctx: RunContext,
  signal: AbortSignal,
  requests: ReplayRequest[],
  opts: { bundles?: { afterS: number; everyS: number; max: number } | undefined; files: string[]; write?: boolean; parallel?: number; afterBundle?: boolean },
): Promise<ReplayDocument> {
  const target = targetBaseUrl(ctx);
  const token = resolveToken(ctx.server?.replay?.tokenEnv, ctx.deps.env);
  const timeoutS = requestTimeoutS(ctx);
  const bundles = liveBundles(ctx, signal, target, token, opts.bundles, opts.afterBundle !== false);
  const title = replayStage.title;
  const run = await runReplay(
    requests,
    { target, ...(token ? { token } : {}), parallel: opts.parallel ?? ctx.replay?.parallel ?? 64, timeoutMs: timeoutS * 1000 },
    {
      signal,
      ...(ctx.deps.dispatcher ? { dispatcher: ctx.deps.dispatcher } : {}),
      progressIntervalMs: 2000,
      onProgress: (p) => {
        ctx.tick(title, `${p.sent}/${p.planned} sent, ${p.done} done, ${p.failed} failed, ${p.inFlight} in flight`, { planned: p.planned, sent: p.sent, done: p.done, failed: p.failed, inFlight: p.inFlight });
        bundles.observe(p);
      },
    },
  );
  await bundles.finish(); // and one more now that the replay is over
  const doc = await withTargetExit(ctx, buildDocument(run, { source: ctx.paths.dumps, files: opts.files }));
  if (opts.write !== false) {
    await writeReplayJson(ctx.paths.root, doc);
    ctx.state.replay = { ...(ctx.state.replay ?? { file: '', reproduced: null, requests: 0, why: '', ttftMedianMs: null }), bundles: bundles.dirs };
  }
  return doc;
}

/**
 * A managed target's process is ours to watch: when it exited during the replay, the replay crashed it,
 * even if the last request only saw its connection reset (the replay alone can then say no more than
 * "server-side errors").
 */
async function withTargetExit(ctx: RunContext, doc: ReplayDocument): Promise<ReplayDocument> {
  const handle = ctx.state.target;
  if (handle?.kind !== 'managed' || doc.reproduced === 'hang' || doc.reproduced === 'crash') return doc;
  const exit = handle.target.exit() ?? (await Promise.race([handle.target.exited, new Promise<null>((r) => setTimeout(() => r(null), 3000).unref())]));
  if (!exit || doc.reproduced === false || doc.reproduced === 'slow') return doc;
  return { ...doc, reproduced: 'crash', reproducedWhy: `${doc.reproducedWhy}; the target process exited during the replay (${exit.signal ?? `exit code ${exit.code}`})` };
}

function select(all: ReplayRequest[], how: 'all' | 'slowest'): ReplayRequest[] {
  if (how === 'all' || all.length <= 1) return all;
  return [slowestRequest(all)!];
}

/** The saved request that took longest as recorded (finished − created); undefined for none. */
export function slowestRequest(all: readonly ReplayRequest[]): ReplayRequest | undefined {
  const e2e = (r: ReplayRequest) => (r.finishedAt !== undefined && r.createdAt ? r.finishedAt - r.createdAt : -1);
  return all.reduce<ReplayRequest | undefined>((a, b) => (a === undefined || e2e(b) > e2e(a) ? b : a), undefined);
}

/**
 * Replay-time bundles: the first once a request has gone `afterS` without any request finishing while
 * some are in flight (it is overdue, the target may hang), then every `everyS` while that holds, at most
 * `max`; and always one after the replay. Captures run beside the replay; finish() waits for them.
 */
function liveBundles(ctx: RunContext, signal: AbortSignal, target: string, token: string | undefined, cfg: { afterS: number; everyS: number; max: number } | undefined, after: boolean) {
  const dirs: string[] = [];
  const pending: Array<Promise<unknown>> = [];
  let lastDone = -1;
  let lastChangeAt = Date.now();
  let lastBundleAt = 0;
  const take = (why: string) => {
    const dir = path.join(ctx.paths.replay, `bundle-${nextBundleNumber(ctx)}`);
    dirs.push(dir);
    ctx.tick(replayStage.title, `replay-time bundle ${path.basename(dir)}: ${why}`);
    const capture = captureStep({
      baseUrl: target,
      outDir: dir,
      role: 'replay',
      timeoutS: 10,
      healthTimeoutS: 25, // SGLang answers /health 503 only after its own 20 s probe (SGLANG_HEALTH_CHECK_TIMEOUT)
      signal,
      now: ctx.now,
      ...(token ? { token } : {}),
      ...(ctx.deps.dispatcher ? { dispatcher: ctx.deps.dispatcher } : {}),
    }).catch((err: Error) => ctx.deps.logger.warn('replay-time bundle failed', { dir, err: err.message }));
    pending.push(capture);
  };
  return {
    dirs,
    observe(p: ReplayProgress) {
      if (!cfg) return;
      const now = Date.now();
      if (p.done !== lastDone) {
        lastDone = p.done;
        lastChangeAt = now;
      }
      // Overdue: the oldest request in flight has waited past the threshold (the engine reports its age),
      // or nothing has finished for that long.
      const stalledS = Math.max((now - lastChangeAt) / 1000, (p.oldestInFlightMs ?? 0) / 1000);
      const live = dirs.length;
      if (p.inFlight > 0 && stalledS >= Math.min(cfg.afterS, requestTimeoutS(ctx) / 2) && live < cfg.max && now - lastBundleAt >= cfg.everyS * 1000) {
        lastBundleAt = now;
        take(`${p.inFlight} request(s) in flight, the oldest for ${((p.oldestInFlightMs ?? 0) / 1000).toFixed(0)} s`);
      }
    },
    async finish() {
      if (after && !signal.aborted) take('after the replay');
      await Promise.all(pending);
    },
  };
}

/** Bundle numbers go on across replays of one run (a profiled second replay adds, never overwrites). */
function nextBundleNumber(ctx: RunContext): number {
  ctx.state.bundleCount = (ctx.state.bundleCount ?? 0) + 1;
  return ctx.state.bundleCount;
}
