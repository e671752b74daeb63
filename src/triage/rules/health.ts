import type { EvidenceRef } from '../../contracts/report.js';
import { PRIORITY, type RouteContext, type Rule } from '../rule.js';
import { liveHangCommands, postMortemCommands } from '../rule-commands.js';
import { baselineBundle, bundleFile, incidentBundle, isHealthy, multiRank, signalIn, type BundleItem } from './bundle-helpers.js';

/** The server is gone: every endpoint refused. Look for what it left behind before anything else. */
export const serverDownRule: Rule = {
  id: 'server-down',
  evaluate(evidence, ctx) {
    const bundle = incidentBundle(evidence);
    const down = signalIn(bundle, 'server-unreachable');
    if (!bundle || !down) return null;
    return {
      rule: this.id,
      priority: PRIORITY.unhealthy + 5,
      problemClass: 'unhealthy',
      strongestSignal: down.text,
      bestGuess: 'The server process died or never came up (crash, OOM kill, failed start-up, or wrong address).',
      ruledOut: ['slow requests (nothing answers at all)'],
      nextStep: {
        skill: 'collect-more',
        why: 'A dead server leaves a crash dump and the end of its log: read those before restarting it, or the scene is lost.',
        commands: postMortemCommands(ctx),
      },
      productionRisk: 'Outage: the server answers nothing. Every request routed to it fails until it is restarted or drained.',
      facts: {},
      evidence: [{ file: bundleFile(bundle, down.file), fact: down.text }],
    };
  },
};

/**
 * The baseline was healthy, the replay-time bundle degraded (timeouts, resets, refusals): the replayed
 * request hangs the server. That is a request-shaped hang, not an outage of unknown cause.
 */
export const replayDegradedRule: Rule = {
  id: 'replay-bundle-degraded',
  evaluate(evidence, ctx) {
    const replay = evidence.of('bundle').find((b) => b.data.role === 'replay');
    const baseline = baselineBundle(evidence);
    if (!replay || !baseline || !isHealthy(baseline.data) || isHealthy(replay.data)) return null;
    const degraded = degradation(replay);
    return {
      rule: this.id,
      priority: PRIORITY.schedulerStall - 5,
      problemClass: 'hang',
      strongestSignal: `Healthy baseline, then the replay-time bundle degraded: ${degraded.map((d) => `${d.name}=${d.state}`).join(', ')}.`,
      bestGuess: multiRank(replay.data) || multiRank(baseline.data)
        ? 'The replayed request hangs the scheduler; on a multi-rank server the usual cause is ranks diverging on a collective.'
        : 'The replayed request hangs the scheduler loop.',
      ruledOut: ['a pre-existing outage (the baseline was healthy)', 'load (the replay sent the saved request only)'],
      nextStep: hangNextStep(ctx, multiRank(replay.data) || multiRank(baseline.data)),
      productionRisk: 'The trigger request can hang production again: every in-flight request on the server stalls with it until the watchdog kills the process.',
      facts: { reproduced: 'hang' },
      evidence: [
        { file: bundleFile(baseline, 'health_generate.txt'), fact: 'baseline /health_generate ok' },
        ...degraded.map((d): EvidenceRef => ({ file: bundleFile(replay, d.file), fact: `${d.name}: ${d.state}${d.error ? ` (${d.error})` : ''}` })),
      ],
    };
  },
};

/**
 * HTTP answers but generation does not. SGLang's health routes run a one-token probe and answer 503 only
 * after waiting SGLANG_HEALTH_CHECK_TIMEOUT (20 s) for the scheduler: such a 503, or a probe that timed
 * out, is a stall (hang). A 503 at once is SGLang starting or shutting down (sglang/health.ts).
 */
export const generationStalledRule: Rule = {
  id: 'generation-stalled',
  evaluate(evidence, ctx) {
    const bundle = incidentBundle(evidence);
    if (!bundle) return null;
    const h = bundle.data.health;
    const stalled = signalIn(bundle, 'health-stalled') ?? signalIn(bundle, 'health-generate-stalled');
    const timedOut = h.health_generate_state === 'timeout' || h.health_state === 'timeout';
    const gen =
      stalled ??
      signalIn(bundle, 'health-generate-failed') ??
      signalIn(bundle, 'health-failed') ??
      (h.health_state === 'timeout' ? signalIn(bundle, 'health-no-verdict') : undefined);
    const cp = signalIn(bundle, 'control-plane-degraded');
    if (!gen && !cp) return null;
    const hung = Boolean(stalled) || timedOut;
    const signal = gen ?? cp!;
    const waitedMs = stalled ? (h.health_verdict === 'stalled' ? h.health_elapsed_ms : h.health_generate_elapsed_ms) : null;
    const untimed = h.health_verdict === 'http-503' || h.health_generate_verdict === 'http-503';
    return {
      rule: this.id,
      priority: hung ? PRIORITY.unhealthy + 2 : PRIORITY.unhealthy,
      problemClass: hung ? 'hang' : 'unhealthy',
      strongestSignal: signal.text,
      bestGuess: hung
        ? stalled
          ? 'The scheduler stopped producing tokens: SGLang\'s own health probe waited its full timeout and got nothing back, while the HTTP front end still answers. A stalled scheduler loop, a kernel that never finishes, or a stuck collective.'
          : 'The scheduler stopped producing tokens (the generation probe timed out) while the HTTP front end still answers: a stalled scheduler loop or a stuck collective.'
        : untimed
          ? 'The health probe answered 503 and the bundle does not record how long it waited: a fast 503 means starting or draining, one after ~20 s means a stalled scheduler. Recapture with `triage capture`, which records the wait.'
          : 'The generation probe fails fast: the server is starting, draining, or marked unhealthy after an earlier failure.',
      ruledOut: [
        ...(bundle.data.endpoints['model_info.json']?.state === 'ok' ? ['the HTTP front end is down (/model_info answered)'] : []),
        ...(stalled ? ['slow requests (a slow server still answers the one-token probe within 20 s)'] : []),
      ],
      nextStep: hung
        ? hangNextStep(ctx, multiRank(bundle.data))
        : { skill: 'collect-more', why: 'A fast 503 says the server refuses work; its log says why (start-up, shutdown, earlier crash).', commands: postMortemCommands(ctx) },
      productionRisk: 'Requests to this server do not complete. Clients see timeouts while the process looks alive to liveness checks that do not generate.',
      facts: { ...(stalled ? { healthVerdict: 'stalled', healthProbeWaitedMs: waitedMs } : {}) },
      evidence: [
        { file: bundleFile(bundle, signal.file), fact: signal.text },
        ...(stalled ? [{ file: bundleFile(bundle, 'metadata.json'), fact: `the health probe waited ${waitedMs} ms before the 503` }] : []),
      ],
    };
  },
};

function degradation(b: BundleItem): Array<{ name: string; file: string; state: string; error: string | null }> {
  return Object.entries(b.data.endpoints)
    .filter(([, e]) => e.state !== 'ok' && e.state !== 'missing')
    .map(([name, e]) => ({ name, file: name.endsWith('.txt') ? `${name}.error.json` : name, state: e.state, error: e.error }));
}

function hangNextStep(ctx: RouteContext, multi: boolean) {
  if (multi) {
    return {
      skill: 'debug-distributed-hang' as const,
      why: 'A multi-rank server that stops producing tokens is usually ranks diverging on a collective: collect per-rank stacks and NCCL COLL logs to find the rank that diverged.',
      commands: liveHangCommands(ctx, true),
    };
  }
  return {
    skill: 'collect-more' as const,
    why: 'The stall is located only at the HTTP level: per-process stacks say which loop is stuck and where.',
    commands: liveHangCommands(ctx, false),
  };
}
