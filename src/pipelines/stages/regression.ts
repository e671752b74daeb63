import { chmod, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { readJsonObject } from '../../fsutil/read-json.js';
import { execa } from 'execa';
import { shellQuote } from '../../util/shell-quote.js';
import { MINUTE, type RunContext, type Stage } from '../context.js';
import { requestTimeoutS } from './replay.js';
import { writeFileAtomic } from '../../fsutil/atomic-write.js';

/**
 * regression: known-good and known-bad builds → a replay-backed harness for `git bisect run`, and the
 * difference between the good and the bad baseline (server_info and versions).
 *
 * The harness exits 0 when the saved trigger does not reproduce on the revision (good), 1 when it does
 * (bad) and 125 when the revision cannot be tested (its build or its start failed): git bisect's contract.
 */
export const BISECT_PLAN_ARTIFACT = 'triage_bisect_plan';

export const bisectHarnessStage: Stage = {
  title: 'write the bisect harness',
  deadlineMs: (ctx) => (ctx.req.regression?.run ? 8 * 60 * MINUTE : MINUTE),
  skip: (ctx) =>
    !ctx.req.regression
      ? 'no --good and --bad given: triage run regression <server> --good REF --bad REF'
      : !ctx.server?.replay?.launch
        ? 'the server has no replay.launch in servers.yaml: the harness needs the command that starts a build'
        : null,
  async run(ctx, signal) {
    const { good, bad, run } = ctx.req.regression!;
    const dir = path.join(ctx.paths.root, 'bisect');
    await mkdir(dir, { recursive: true });
    const harness = path.join(dir, 'harness.sh');
    await writeFileAtomic(harness, harnessScript(ctx));
    await chmod(harness, 0o755);
    const commands = [`git bisect start ${shellQuote(bad)} ${shellQuote(good)}`, `git bisect run ${shellQuote(harness)}`, 'git bisect log', 'git bisect reset'];
    const plan: Record<string, unknown> = { artifact_type: BISECT_PLAN_ARTIFACT, good, bad, harness, commands, ran: false };
    if (run) {
      const log = path.join(dir, 'bisect.log');
      const cwd = ctx.req.regression!.repo ?? process.cwd();
      const start = await execa('git', ['bisect', 'start', bad, good], { cwd, reject: false, cancelSignal: signal, all: true });
      const bisect = start.exitCode === 0 ? await execa('git', ['bisect', 'run', harness], { cwd, reject: false, cancelSignal: signal, all: true }) : start;
      const text = `${start.all ?? ''}\n${bisect === start ? '' : (bisect.all ?? '')}`;
      await writeFileAtomic(log, text);
      await execa('git', ['bisect', 'reset'], { cwd, reject: false });
      const first = /^([0-9a-f]{7,40}) is the first bad commit/m.exec(text)?.[1] ?? null;
      Object.assign(plan, { ran: true, exitCode: bisect.exitCode ?? null, firstBadCommit: first, log });
    }
    await writeFileAtomic(path.join(dir, 'plan.json'), `${JSON.stringify(plan, null, 2)}\n`);
    return run ? `bisect ran: first bad commit ${String(plan.firstBadCommit ?? 'not found')} (bisect/bisect.log)` : `bisect/harness.sh written; run: ${commands.slice(0, 2).join(' && ')}`;
  },
};

/** The difference between the good baseline (the server's previous capture) and the bad one (this incident's). */
export const versionDiffStage: Stage = {
  title: 'diff server_info and versions between good and bad',
  deadlineMs: () => MINUTE,
  async run(ctx) {
    const bad = await readJsonObject(path.join(ctx.paths.baseline, 'server_info.json'));
    const goodDir = await previousBaseline(ctx);
    const good = goodDir ? await readJsonObject(path.join(goodDir, 'server_info.json')) : null;
    const dir = path.join(ctx.paths.root, 'bisect');
    await mkdir(dir, { recursive: true });
    const diff = good && bad ? diffObjects(good, bad) : [];
    const versions = VERSION_KEYS.map((key) => ({ key, good: pick(good, key), bad: pick(bad, key) }));
    await writeFileAtomic(
      path.join(dir, 'version-diff.json'),
      `${JSON.stringify({ artifact_type: 'triage_version_diff', goodBaseline: goodDir, badBaseline: ctx.paths.baseline, versions, serverInfoDiff: diff.slice(0, 200) }, null, 2)}\n`,
    );
    if (!goodDir) return 'no earlier baseline of this server in the data folder to compare with';
    const changed = versions.filter((v) => v.good !== v.bad && (v.good !== null || v.bad !== null));
    return `${diff.length} server_info field(s) differ; versions changed: ${changed.map((v) => `${v.key} ${v.good ?? '?'} → ${v.bad ?? '?'}`).join(', ') || 'none recorded'}`;
  },
};

export const regressionStages: readonly Stage[] = [versionDiffStage, bisectHarnessStage];

/** The versions a regression usually hides in; SGLang's /server_info reports `version`, others when present. */
const VERSION_KEYS = ['version', 'sglang_version', 'sgl_kernel_version', 'flashinfer_version', 'torch_version', 'nccl_version', 'cuda_driver_version', 'driver_version'];

function pick(obj: Record<string, unknown> | null, key: string): string | null {
  const v = obj?.[key];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : null;
}

export function diffObjects(a: Record<string, unknown>, b: Record<string, unknown>, prefix = ''): Array<{ key: string; good: unknown; bad: unknown }> {
  const out: Array<{ key: string; good: unknown; bad: unknown }> = [];
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const x = a[key];
    const y = b[key];
    if (isPlain(x) && isPlain(y)) out.push(...diffObjects(x, y, `${prefix}${key}.`));
    else if (JSON.stringify(x) !== JSON.stringify(y)) out.push({ key: `${prefix}${key}`, good: x ?? null, bad: y ?? null });
  }
  return out;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The newest other incident folder beside this one whose baseline is of the same server. */
export async function previousBaseline(ctx: RunContext): Promise<string | null> {
  const parent = path.dirname(ctx.paths.root);
  const server = ctx.req.server.name ?? ctx.req.server.url;
  const candidates: Array<{ dir: string; at: string }> = [];
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    const dir = path.join(parent, name);
    if (dir === ctx.paths.root) continue;
    const meta = await readJsonObject(path.join(dir, 'baseline', 'metadata.json'));
    const incident = await readJsonObject(path.join(dir, 'incident.json'));
    if (!meta || (incident?.server !== server && meta.server !== server)) continue;
    candidates.push({ dir: path.join(dir, 'baseline'), at: String(meta.collected_at ?? meta.captured_at ?? incident?.createdAt ?? '') });
  }
  candidates.sort((x, y) => y.at.localeCompare(x.at));
  return candidates[0]?.dir ?? null;
}


/** The harness git bisect runs at each revision. Every value from the registry or the folder is quoted. */
function harnessScript(ctx: RunContext): string {
  const replay = ctx.server!.replay!;
  const q = shellQuote;
  const build = replay.build ?? 'true';
  const triage = (ctx.deps.selfCommand ?? ['triage']).map(q).join(' ');
  return `#!/bin/sh
# git bisect run harness, written by \`triage run regression\` for ${q(path.basename(ctx.paths.root))}.
# exit 0: the saved trigger does not reproduce (good); 1: it does (bad); 125: this revision cannot be tested.
set -u
INCIDENT=${q(ctx.paths.root)}
TARGET_URL=${q(replay.url)}
READY_TIMEOUT_S=${Math.round(replay.readyTimeoutS)}
TIMEOUT_S=${requestTimeoutS(ctx)}
BUILD=${q(build)}
LAUNCH=${q(replay.launch!)}
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
log="$INCIDENT/bisect/rev-$rev.log"
echo "== $rev: build" >>"$log"
sh -c "$BUILD" >>"$log" 2>&1 || exit 125
echo "== $rev: start" >>"$log"
setsid sh -c "$LAUNCH" >>"$log" 2>&1 &
pgid=$!
trap 'kill -TERM -"$pgid" 2>/dev/null; sleep 5; kill -KILL -"$pgid" 2>/dev/null' EXIT
waited=0
until curl -fsS -o /dev/null "$TARGET_URL/health" 2>/dev/null; do
  kill -0 "$pgid" 2>/dev/null || exit 125
  [ "$waited" -ge "$READY_TIMEOUT_S" ] && exit 125
  sleep 1; waited=$((waited + 1))
done
echo "== $rev: replay" >>"$log"
${triage} replay "$INCIDENT/dumps" --target "$TARGET_URL" --timeout "$TIMEOUT_S" --out "$INCIDENT/bisect/rev-$rev" --json >"$INCIDENT/bisect/rev-$rev.json" 2>>"$log"
python3 -c 'import json,sys
r = json.load(open(sys.argv[1])).get("reproduced")
sys.exit(0 if r is False else 1 if r in (True, "crash", "hang", "slow") else 125)' "$INCIDENT/bisect/rev-$rev.json"
`;
}
