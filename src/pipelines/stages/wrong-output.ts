import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { readJsonObject } from '../../fsutil/read-json.js';
import { request } from 'undici';
import { resolveToken } from '../../config/servers.js';
import { loadDumps } from '../../evidence/dump/load.js';
import { toGenerateBody } from '../../evidence/dump/request.js';
import { pickleToJson } from '../../evidence/pickle/index.js';
import { redactText } from '../../sglang/redact.js';
import { tokenFor } from '../capture-step.js';
import { MINUTE, type RunContext, type Stage } from '../context.js';
import { previousBaseline } from './regression.js';
import { requestTimeoutS, targetBaseUrl } from './replay.js';
import { writeFileAtomic } from '../../fsutil/atomic-write.js';

/**
 * wrong output: first the identity of what serves (model, weights, template, parsers, quantisation,
 * topology) against the server's previous baseline; then the saved requests replayed greedily on the
 * clean target and compared with the outputs the dump recorded (request and crash dumps keep finished
 * outputs). Production gets the same greedy requests only with --compare-production (intrusive).
 */
export const OUTPUT_COMPARE_ARTIFACT = 'triage_output_compare';

/** Fields of /model_info and /server_info that say *what* answers; a change in any of them explains a new output. */
export const IDENTITY_FIELDS = [
  'model_path', 'tokenizer_path', 'served_model_name', 'weight_version', 'model_type', 'architectures', 'revision', 'load_format',
  'chat_template', 'completion_template', 'tool_call_parser', 'reasoning_parser', 'quantization', 'dtype', 'kv_cache_dtype',
  'tp_size', 'dp_size', 'pp_size', 'ep_size', 'attention_backend', 'sampling_backend', 'speculative_algorithm', 'context_length', 'version',
] as const;

const MAX_COMPARED = 64;
const PREVIEW = 160;

export interface IdentityDiff {
  baseline: string | null;
  compared: boolean;
  changed: Array<{ field: string; before: unknown; now: unknown }>;
}

export const identityStage: Stage = {
  title: 'compare model and server identity with the previous baseline',
  deadlineMs: () => MINUTE,
  async run(ctx) {
    const diff = await identityDiff(ctx);
    await mkdir(compareDir(ctx), { recursive: true });
    await writeFileAtomic(path.join(compareDir(ctx), 'identity.json'), `${JSON.stringify(diff, null, 2)}\n`);
    if (!diff.compared) return 'no earlier baseline of this server to compare identity with';
    return diff.changed.length ? `identity changed: ${diff.changed.map((c) => c.field).join(', ')}` : `identity unchanged since ${diff.baseline}`;
  },
};

export const greedyCompareStage: Stage = {
  title: 'greedy replay compared with the recorded outputs',
  deadlineMs: (ctx) => 10 * MINUTE + requestTimeoutS(ctx) * 1000,
  skip: (ctx) => (ctx.state.target ? null : `skipped: ${ctx.state.noTargetWhy ?? 'no clean target'}`),
  async run(ctx, signal) {
    const cases = await recordedCases(ctx, signal);
    if (!cases.length) return 'no saved request with a recorded output to compare (request dumps keep finished requests: save some first)';
    const target = targetBaseUrl(ctx);
    const targetToken = resolveToken(ctx.server?.replay?.tokenEnv, ctx.deps.env);
    const production = ctx.req.compareProduction ? { url: ctx.req.server.url, token: tokenFor(ctx.req.server, ctx.deps.env) } : null;
    const results = [];
    for (const c of cases) {
      ctx.tick(greedyCompareStage.title, `${results.length}/${cases.length} compared`, { planned: cases.length, done: results.length });
      const replayed = await generate(target, c.body, targetToken, signal, requestTimeoutS(ctx), ctx);
      const prod = production ? await generate(production.url, c.body, production.token, signal, requestTimeoutS(ctx), ctx) : null;
      results.push({
        rid: c.rid,
        greedyRecorded: c.greedy,
        recorded: preview(c.recorded),
        replayed: replayed.text === null ? null : preview(replayed.text),
        error: replayed.error,
        same: replayed.text === null ? null : replayed.text === c.recorded,
        firstDifferenceAt: replayed.text === null ? null : firstDifference(c.recorded, replayed.text),
        ...(prod ? { production: prod.text === null ? null : preview(prod.text), sameAsProduction: prod.text === null || replayed.text === null ? null : prod.text === replayed.text } : {}),
      });
    }
    const identity = (await readJsonObject(path.join(compareDir(ctx), 'identity.json'))) as IdentityDiff | null;
    const differing = results.filter((r) => r.same === false);
    const doc = {
      artifact_type: OUTPUT_COMPARE_ARTIFACT,
      target,
      comparedProduction: Boolean(production),
      identity,
      compared: results.filter((r) => r.same !== null).length,
      identical: results.filter((r) => r.same === true).length,
      differing: differing.length,
      differingGreedy: differing.filter((r) => r.greedyRecorded).length,
      results,
    };
    await writeFileAtomic(path.join(compareDir(ctx), 'outputs.json'), `${JSON.stringify(doc, null, 2)}\n`);
    return `${doc.compared} compared: ${doc.identical} identical, ${doc.differing} differ (${doc.differingGreedy} of them recorded greedily)`;
  },
};

export const wrongOutputStages = { before: [identityStage] as readonly Stage[], replay: [greedyCompareStage] as readonly Stage[] };

function compareDir(ctx: RunContext): string {
  return path.join(ctx.paths.root, 'compare');
}

async function identityDiff(ctx: RunContext): Promise<IdentityDiff> {
  const now = await identityOf(ctx.paths.baseline);
  const before = await previousBaseline(ctx);
  if (!before) return { baseline: null, compared: false, changed: [] };
  const then = await identityOf(before);
  const changed = IDENTITY_FIELDS.filter((f) => JSON.stringify(then[f] ?? null) !== JSON.stringify(now[f] ?? null)).map((f) => ({ field: f, before: then[f] ?? null, now: now[f] ?? null }));
  return { baseline: before, compared: true, changed };
}

async function identityOf(bundleDir: string): Promise<Record<string, unknown>> {
  const read = async (name: string) => (await readJsonObject(path.join(bundleDir, name))) ?? {};
  return { ...(await read('server_info.json')), ...(await read('model_info.json')) };
}

interface RecordedCase {
  rid: string | null;
  body: Record<string, unknown>;
  recorded: string;
  /** The recorded output was sampled greedily (temperature 0), so a difference is a real divergence. */
  greedy: boolean;
}

async function recordedCases(ctx: RunContext, signal: AbortSignal): Promise<RecordedCase[]> {
  const { dumps } = await loadDumps(ctx.paths.dumps, { signal }).catch(() => ({ dumps: [] as Awaited<ReturnType<typeof loadDumps>>['dumps'] }));
  const cases: RecordedCase[] = [];
  for (const record of dumps.flatMap((d) => d.records)) {
    if (cases.length >= MAX_COMPARED) break;
    const out = pickleToJson(record.out) as Record<string, unknown> | null;
    const text = out && typeof out === 'object' && typeof out.text === 'string' ? out.text : null;
    if (text === null) continue;
    let body: Record<string, unknown>;
    try {
      body = toGenerateBody(record.req) as Record<string, unknown>;
    } catch {
      continue;
    }
    const sampling = (typeof body.sampling_params === 'object' && body.sampling_params !== null ? body.sampling_params : {}) as Record<string, unknown>;
    const greedy = sampling.temperature === 0 || sampling.top_k === 1;
    const meta = (out as { meta_info?: { id?: unknown } }).meta_info;
    cases.push({
      rid: typeof meta?.id === 'string' ? meta.id : typeof body.rid === 'string' ? body.rid : null,
      body: { ...body, stream: false, rid: undefined, sampling_params: { ...sampling, temperature: 0 } },
      recorded: text,
      greedy,
    });
  }
  return cases;
}

async function generate(base: string, body: Record<string, unknown>, token: string | undefined, signal: AbortSignal, timeoutS: number, ctx: RunContext): Promise<{ text: string | null; error: string | null }> {
  try {
    const res = await request(new URL('/generate', base), {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutS * 1000)]),
      ...(ctx.deps.dispatcher ? { dispatcher: ctx.deps.dispatcher } : {}),
    });
    const raw = await res.body.text();
    if (res.statusCode !== 200) return { text: null, error: `HTTP ${res.statusCode}` };
    const parsed = JSON.parse(raw) as { text?: unknown } | Array<{ text?: unknown }>;
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    return typeof first?.text === 'string' ? { text: first.text, error: null } : { text: null, error: 'no text in the answer' };
  } catch (err) {
    return { text: null, error: (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutS} s` : (err as Error).message };
  }
}

function preview(text: string): string {
  return redactText(text.length > PREVIEW ? `${text.slice(0, PREVIEW)}…` : text);
}

export function firstDifference(a: string, b: string): number | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? null : n;
}
