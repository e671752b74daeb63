/**
 * Every command any rule can print: each builder with each of its options, then every rule through
 * `route()` over the repository's fixture folders. Used by the sandbox and the launch-surface tests.
 */
import type { Evidence } from '../../src/evidence/types.js';
import { route } from '../../src/triage/route.js';
import type { RouteContext } from '../../src/triage/rule.js';
import { RULES } from '../../src/triage/rules/index.js';
import * as next from '../../src/triage/next-commands.js';
import * as gpu from '../../src/triage/rules/gpu-evidence/commands.js';
import * as misc from '../../src/triage/rule-commands.js';
import { CRASH_FILES, HANG_FILES, makeIncident, prng, scan, type Source } from '../gpu/helpers.js';

export interface Generated {
  from: string;
  commands: string[];
}

/** Paths that reach builders from evidence rather than from the registry (crash dump named in a log, a coredump found). */
export interface EvidencePaths {
  crashDumpPath: string;
  corePath: string;
  targetBase: string;
  /** A git ref as a user typed it (regression good/bad). */
  ref: string;
}

export function fromBuilders(ctx: RouteContext, ev: EvidencePaths): Generated[] {
  const out: Generated[] = [];
  const add = (from: string, commands: string[] | string | null) => {
    if (commands !== null) out.push({ from, commands: Array.isArray(commands) ? commands : [commands] });
  };
  const knobs: gpu.CapacityKnob[] = [
    { flag: '--chunked-prefill-size', hint: '<half of current, e.g. 4096>' },
    { flag: '--mem-fraction-static', hint: '<current - 0.05>' },
    { flag: '--cuda-graph-max-bs-decode', hint: '<smaller>' },
  ];
  add('captureCommand production', next.captureCommand(ctx, 'baseline'));
  add('captureCommand target', next.captureCommand(ctx, 'replay/bundle', { url: ev.targetBase }));
  add('enableRequestDumpCommand', next.enableRequestDumpCommand(ctx));
  add('disableRequestDumpCommand', next.disableRequestDumpCommand(ctx));
  add('copyDumpsCommand request', next.copyDumpsCommand(ctx, 'request'));
  add('copyDumpsCommand crash', next.copyDumpsCommand(ctx, 'crash'));
  add('copyDumpsCommand file', next.copyDumpsCommand(ctx, 'crash', ev.crashDumpPath));
  add('replayCommand', next.replayCommand(ctx, ['--parallel', '1', '--timeout', '120']));
  add('routeCommand', next.routeCommand(ctx));
  add('dumpSummaryCommand', next.dumpSummaryCommand(ctx, ev.crashDumpPath));
  add('startCleanTargetCommand', next.startCleanTargetCommand(ctx, gpu.crashReplayEnv(ctx), ['--crash-dump-folder', `${ctx.incidentDir}/dumps/target`]));
  add('cleanTargetSteps', next.cleanTargetSteps(ctx, gpu.hangReplayEnv(ctx), ['--port', '31000']));
  for (const kind of ['request', 'crash'] as const) add(`saveAndReplaySteps ${kind}`, next.saveAndReplaySteps(ctx, kind, gpu.hangReplayEnv(ctx), { crashDumpPath: ev.crashDumpPath }));
  add('collectMoreCommands', next.collectMoreCommands(ctx));
  add('coredumpGdbCommand newest', gpu.coredumpGdbCommand(ctx));
  add('coredumpGdbCommand path', gpu.coredumpGdbCommand(ctx, ev.corePath));
  add('coredumpGdbCommand plain path', gpu.coredumpGdbCommand(ctx, '/var/tmp/cuda_coredump_h.1.2'));
  add('memcheckCommands', gpu.memcheckCommands(ctx));
  for (const hasReplay of [false, true]) {
    add(`cudaCrashCommands ${hasReplay}`, gpu.cudaCrashCommands(ctx, { hasReplay, unreadCoredump: ev.corePath, crashDumpPath: ev.crashDumpPath }));
    add(`cudaCrashCommands bare ${hasReplay}`, gpu.cudaCrashCommands(ctx, { hasReplay }));
    add(`distributedHangCommands ${hasReplay}`, gpu.distributedHangCommands(ctx, { hasReplay, pids: [4242] }));
    add(`watchdogKilledCommands ${hasReplay}`, gpu.watchdogKilledCommands(ctx, { hasReplay, crashDumpPath: ev.crashDumpPath }));
    add(`watchdogKilledCommands no dump ${hasReplay}`, gpu.watchdogKilledCommands(ctx, { hasReplay }));
    add(`oomCommands ${hasReplay}`, gpu.oomCommands(ctx, knobs, hasReplay));
    add(`tracebackReplayCommands ${hasReplay}`, gpu.tracebackReplayCommands(ctx, hasReplay));
    add(`computeSlowCommands ${hasReplay}`, misc.computeSlowCommands(ctx, hasReplay));
    add(`liveHangCommands ${hasReplay}`, misc.liveHangCommands(ctx, hasReplay));
  }
  for (const pids of [[], [4242, 4243]]) {
    add(`hangCollectionCommands ${pids.length}`, gpu.hangCollectionCommands(ctx, pids, 'production'));
    add(`stallCollectionCommands ${pids.length}`, gpu.stallCollectionCommands(ctx, pids));
  }
  add('postMortemCommands', misc.postMortemCommands(ctx));
  add('profileCommands', misc.profileCommands(ctx));
  add('queuePressureCommands', misc.queuePressureCommands(ctx, { maxTotalTokens: 123456, maxRunningRequests: null }));
  add('replayProfileCommands', misc.replayProfileCommands(ctx, ev.targetBase));
  add('targetBundleCommands', misc.targetBundleCommands(ctx, ev.targetBase));
  add('xidCommands', misc.xidCommands(ctx));
  add('bisectCommands', misc.bisectCommands({ good: ev.ref, bad: ev.ref, harness: `${ctx.incidentDir}/bisect/harness.sh` }));
  add('bisectCommands found', misc.bisectCommands({ good: ev.ref, bad: ev.ref, harness: 'x', ran: true, firstBadCommit: ev.ref }));
  add('identityDiffCommands', misc.identityDiffCommands(ctx, ev.crashDumpPath));
  add('differingOutputsCommands', misc.differingOutputsCommands(ctx));
  add('targetLogCommands', misc.targetLogCommands(ctx));
  add('profileAnalysisCommands', misc.profileAnalysisCommands('.claude/skills/llm-torch-profiler-analysis/scripts/analyze_llm_torch_profile.py', [`${ctx.incidentDir}/profiles`, ev.corePath]));
  return out;
}

/** The fixture folders every rule is routed over: each recording alone, and the multi-file incidents. */
const FIXTURE_SETS: Array<{ name: string; sources: Source[] }> = [
  ...[
    'crash.stderr.txt',
    'crash.cuda-gdb.txt',
    'crash.compute-sanitizer.txt',
    'crash.cuda-coredump.tar.xz',
    'hang.stdout.txt',
    'hang.nvidia-smi.csv',
    'rank0.cuda-gdb-attach.txt',
    'rank0.pystack.txt',
  ].map((real) => ({ name: real, sources: [{ real }] })),
  ...[
    'cpu-exception-single-rank.log',
    'cuda-gdb-core-misaligned.txt',
    'cuda-gdb-core-warp-assert.txt',
    'cuda-gdb-live-illegal-address.txt',
    'device-assert.log',
    'memcheck-global-read.txt',
    'nccl-init-mismatch.log',
    'nvidia-smi-4gpu-busy.txt',
    'oom-tp2.log',
    'pyspy-allreduce-tp2.txt',
    'pyspy-native-tp1.txt',
    'racecheck.txt',
    'torch-nccl-watchdog-4ranks.log',
    'watchdog-single-rank.log',
    'xid-79.log',
  ].map((handmade) => ({ name: handmade, sources: [{ handmade }] })),
  { name: 'crash files', sources: CRASH_FILES.map((real) => ({ real })) },
  { name: 'hang files', sources: HANG_FILES.map((real) => ({ real })) },
  { name: 'empty', sources: [] },
  ...(['hang', 'crash', 'slow', true, false, 'inconclusive'] as const).map((reproduced) => ({ name: `replay ${String(reproduced)}`, sources: [replayJson(reproduced)] })),
];

function replayJson(reproduced: string | boolean): Source {
  return {
    name: 'replay.json',
    text: JSON.stringify({
      artifact_type: 'replay',
      target: 'http://127.0.0.1:31000/generate',
      reproduced,
      reproducedWhy: 'recorded outcome',
      trigger: { idx: 1, rid: 'r-1', promptTokens: 769, textPreview: 'hello', unfinishedInDump: true, outcome: 'timeout', why: 'no answer' },
      totals: { planned: 2, sent: 2 },
    }),
  };
}

let scanned: Promise<Array<{ name: string; evidence: Evidence }>> | null = null;

/** Scanned once per test file: evidence does not depend on the context the commands are built for. */
export function fixtureEvidence(): Promise<Array<{ name: string; evidence: Evidence }>> {
  scanned ??= (async () => {
    const out: Array<{ name: string; evidence: Evidence }> = [];
    for (const [i, set] of FIXTURE_SETS.entries()) {
      const inc = await makeIncident(set.sources, prng(100 + i));
      try {
        out.push({ name: set.name, evidence: await scan(inc.dir) });
      } finally {
        await inc.cleanup();
      }
    }
    return out;
  })();
  return scanned;
}

export async function fromRoutes(ctx: RouteContext): Promise<Generated[]> {
  return (await fixtureEvidence()).map(({ name, evidence }) => {
    const report = route(evidence, ctx, RULES);
    return { from: `route ${name} → ${report.facts.rule}`, commands: report.nextStep.commands };
  });
}
