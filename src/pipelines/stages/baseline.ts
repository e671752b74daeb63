import { existsSync } from 'node:fs';
import path from 'node:path';
import { adminTokenFor, captureStep, tokenFor } from '../capture-step.js';
import { MINUTE, type Stage } from '../context.js';

/** Keep the scene: a read-only bundle of the production server (baseline/, or live-<time>/ when one exists). */
export const baselineStage: Stage = {
  title: 'capture baseline bundle',
  deadlineMs: (ctx) => Math.max(2 * MINUTE, ((ctx.req.timeoutS ?? 0) + 30) * 1000),
  async run(ctx, signal) {
    const role = existsSync(path.join(ctx.paths.baseline, 'metadata.json')) ? 'live' : 'baseline';
    const outDir = role === 'baseline' ? ctx.paths.baseline : path.join(ctx.paths.root, `live-${stamp(ctx.now())}`);
    const adminToken = adminTokenFor(ctx.server ?? {}, ctx.deps.env);
    const r = await captureStep({
      baseUrl: ctx.req.server.url,
      outDir,
      role,
      ...(ctx.server?.name ? { serverName: ctx.server.name } : {}),
      ...withToken(tokenFor(ctx.req.server, ctx.deps.env)),
      ...(adminToken ? { adminToken } : {}),
      ...(ctx.req.timeoutS !== undefined ? { timeoutS: ctx.req.timeoutS, healthTimeoutS: ctx.req.timeoutS } : {}),
      ...(ctx.deps.dispatcher ? { dispatcher: ctx.deps.dispatcher } : {}),
      signal,
      now: ctx.now,
    });
    ctx.state.bundleSummary = r.summaryText;
    ctx.state.files.push(path.join(outDir, 'SUMMARY.txt'));
    const ok = r.capture.endpoints.filter((e) => e.outcome.kind === 'ok').length;
    return `${role}: ${ok}/${r.capture.endpoints.length} endpoints ok in ${(r.capture.elapsedMs / 1000).toFixed(1)} s; ${r.summary.signals.length} signals`;
  },
};

function withToken(token: string | undefined): { token?: string } {
  return token ? { token } : {};
}

export function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}
