import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { readJsonObject } from '../../fsutil/read-json.js';
import { request } from 'undici';
import { resolveToken } from '../../config/servers.js';
import { loadReplayRequests } from '../../evidence/dump/load.js';
import { MINUTE, type RunContext, type Stage } from '../context.js';
import { replayOnce, slowestRequest, targetBaseUrl } from './replay.js';
import { writeFileAtomic } from '../../fsutil/atomic-write.js';

/** Signals of the bundle summary that mean requests wait for admission, not for compute. */
const QUEUE_SIGNALS = new Set(['queue-time-dominates', 'queue-buildup']);
const TRACE_FILE = /\.trace\.json(\.gz)?$/;
const TRACE_WAIT_MS = 120_000;

export type SlowVerdict = { kind: 'compute'; why: string } | { kind: 'queue'; why: string } | { kind: 'not-reproduced'; why: string };

/**
 * Compare the replay at parallel 1 with the baseline: queue pressure in the baseline is slow too but is
 * never profiled; a clean target as slow as production (the replay reproduced 'slow') is compute-side.
 */
export async function slowVerdict(ctx: RunContext): Promise<SlowVerdict> {
  const summary = await readJsonObject(path.join(ctx.paths.baseline, 'summary.json'));
  const signals: string[] = Array.isArray(summary?.signals) ? summary.signals.map((s: { id?: string }) => s.id ?? '') : [];
  const queue = signals.filter((s) => QUEUE_SIGNALS.has(s));
  const m = summary?.metrics ?? {};
  const base = `baseline avg TTFT ${fmt(m.avg_ttft_seconds)} s, avg queue ${fmt(m.avg_queue_time_seconds)} s`;
  const replayMs = ctx.state.replay?.ttftMedianMs;
  const replay = `replay at parallel 1: ${replayMs === null || replayMs === undefined ? 'no timing' : `${(replayMs / 1000).toFixed(3)} s`}`;
  if (queue.length) return { kind: 'queue', why: `queue pressure (${queue.join(', ')}); ${base}; ${replay}: not profiled` };
  if (ctx.state.replay?.reproduced === 'slow') return { kind: 'compute', why: `the clean target is slow on the saved request alone; ${base}; ${replay}` };
  return { kind: 'not-reproduced', why: `the saved request is not slow alone on the clean target (reproduced: ${String(ctx.state.replay?.reproduced)}); ${base}; ${replay}` };
}

/**
 * Only when the replay confirmed compute-side slowness: /start_profile on the target (output inside the
 * incident, num_steps, profile_by_stage where the server accepts it) around a second replay, then the
 * trace files in profiles/. Fields from SGLang's ProfileReq (srt/managers/io_struct.py); the route is
 * ADMIN_OPTIONAL (srt/entrypoints/http_server.py `start_profile_async`).
 */
export const profileStage: Stage = {
  title: 'profile the slow request on the clean target',
  deadlineMs: (ctx) => 10 * MINUTE + (ctx.req.timeoutS ?? 0) * 1000,
  skip: (ctx) => (!ctx.state.target ? `skipped: ${ctx.state.noTargetWhy ?? 'no clean target'}` : !ctx.state.replay ? 'no replay ran' : null),
  async run(ctx, signal) {
    const verdict = await slowVerdict(ctx);
    const profiles = path.join(ctx.paths.root, 'profiles');
    await mkdir(profiles, { recursive: true });
    await writeFileAtomic(path.join(profiles, 'decision.json'), `${JSON.stringify({ verdict: verdict.kind, why: verdict.why }, null, 2)}\n`);
    if (verdict.kind !== 'compute') return `not profiled: ${verdict.why}`;

    const url = targetBaseUrl(ctx);
    const token = resolveToken(ctx.server?.replay?.tokenEnv, ctx.deps.env);
    const profileId = `triage-${Date.now()}`;
    const body = { output_dir: profiles, num_steps: 20, activities: ['CPU', 'GPU'], profile_by_stage: true, record_shapes: true, profile_id: profileId };
    let started = await post(url, '/start_profile', body, token, signal, ctx);
    if (started.status >= 400 && started.status < 500) started = await post(url, '/start_profile', { ...body, profile_by_stage: false }, token, signal, ctx);
    if (started.status !== 200) return `not profiled: /start_profile answered HTTP ${started.status}: ${started.text.slice(0, 200)}`;

    const { requests, files } = await loadReplayRequests(ctx.paths.dumps, { signal });
    const slowest = slowestRequest(requests);
    await replayOnce(ctx, signal, slowest ? [slowest] : requests.slice(0, 1), { files, write: false, parallel: 1, afterBundle: false });
    const stopped = await post(url, '/stop_profile', {}, token, signal, ctx).catch(() => ({ status: 0, text: '' }));
    const traces = await waitForTraces(profiles, signal);
    return traces.length
      ? `${verdict.why}; ${traces.length} trace file(s) in profiles/: ${traces.join(', ')}`
      : `profiling ran (stop_profile HTTP ${stopped.status}) but no trace file appeared in profiles/ within ${TRACE_WAIT_MS / 1000} s`;
  },
};

async function post(base: string, route: string, body: unknown, token: string | undefined, signal: AbortSignal, ctx: RunContext): Promise<{ status: number; text: string }> {
  const res = await request(new URL(route, base), {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    signal: AbortSignal.any([signal, AbortSignal.timeout(60_000)]),
    ...(ctx.deps.dispatcher ? { dispatcher: ctx.deps.dispatcher } : {}),
  });
  return { status: res.statusCode, text: (await res.body.text()).slice(0, 4096) };
}

async function waitForTraces(dir: string, signal: AbortSignal): Promise<string[]> {
  const end = Date.now() + TRACE_WAIT_MS;
  let seen: string[] = [];
  while (Date.now() < end && !signal.aborted) {
    seen = await findTraces(dir);
    if (seen.length) {
      await new Promise((r) => setTimeout(r, 500)); // let the writer finish the file it just created
      return findTraces(dir);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return seen;
}

async function findTraces(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, depth: number) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory() && depth < 2) await walk(path.join(d, e.name), depth + 1);
      else if (e.isFile() && TRACE_FILE.test(e.name)) out.push(path.relative(dir, path.join(d, e.name)));
    }
  };
  await walk(dir, 0);
  return out.sort();
}


function fmt(v: unknown): string {
  return typeof v === 'number' ? v.toFixed(3) : 'n/a';
}
