/**
 * Replay progress (issue 9.6), lazy bodies (9.5) and hostile dumps through `triage replay` (12.4, 12.9),
 * against a real local /generate server.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli/io.js';
import { cliEnvSchema, credentialsFrom, loadEnv } from '../../src/config/env.js';
import { createReplayCommand, progressLine } from '../../src/cli/replay.js';
import { isTriageError } from '../../src/errors.js';
import { loadReplayRequests } from '../../src/evidence/dump/index.js';
import { progressCounters, runReplay, type ReplayProgress } from '../../src/replay/engine.js';
import type { ReplayRequest } from '../../src/replay/types.js';
import { withTempDir } from '../helpers/tmp.js';
import { writeHostile, type Hostile } from '../pickle/hostile.js';
import { req, useFakeSglang } from './fake-sglang.js';

const fake = useFakeSglang(afterEach);
const signal = () => new AbortController().signal;

let h: Hostile;
beforeAll(() => {
  h = writeHostile();
}, 120_000);
afterAll(() => h.cleanup());

function context(dir: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const ctx: CliContext = { stdout, stderr, env: loadEnv(cliEnvSchema, {}), credentials: credentialsFrom({}), cwd: dir, signal: new AbortController().signal, interactive: false };
  return { ctx, out: () => out, err: () => err };
}

describe('progress', () => {
  it('reports sent, done, failed, in flight, total and the oldest in-flight age, on a timer and on each phase', async () => {
    const s = await fake({ hangWhen: (b) => b.rid === 'slow', delayMs: 10 });
    const reports: ReplayProgress[] = [];
    const reqs = [req(1, { rid: 'slow', body: { text: 'x', rid: 'slow' } }), req(1.01), req(1.02)];
    const run = await runReplay(reqs, { target: s.url, timeoutMs: 600, parallel: 4 }, { signal: signal(), onProgress: (p) => reports.push(p), progressIntervalMs: 50 });
    expect(run.results[0]!.outcome.kind).toBe('timeout');
    const phases = reports.map((p) => p.phase);
    expect(phases[0]).toBe('sending');
    expect(phases).toContain('draining');
    expect(phases[phases.length - 1]).toBe('finished');
    // While the hung request is in flight, its age grows and it is named.
    const overdue = reports.filter((p) => p.phase === 'draining' && p.inFlight === 1);
    expect(overdue.length).toBeGreaterThan(3);
    expect(overdue.every((p) => p.oldestInFlightIdx === 0)).toBe(true);
    const ages = overdue.map((p) => p.oldestInFlightMs);
    expect(ages[ages.length - 1]!).toBeGreaterThan(ages[0]!);
    const last = reports[reports.length - 1]!;
    expect(last).toMatchObject({ total: 3, sent: 3, done: 3, failed: 1, inFlight: 0, oldestInFlightMs: 0, oldestInFlightIdx: null });
    expect(progressCounters(last)).toEqual({ sent: 3, done: 3, failed: 1, inFlight: 0, total: 3, oldestInFlightMs: 0 });
    expect(progressLine(overdue[0]!)).toMatch(/^replay draining \+\d+\.\ds: sent 3\/3, in flight 1, done 2, failed 0, oldest in flight \d+\.\ds \(idx 0\)$/);
  });

  it('a stop is a phase change, reported at once with its reason', async () => {
    const s = await fake();
    const reports: ReplayProgress[] = [];
    const ac = new AbortController();
    const reqs = [req(1), req(60)];
    const running = runReplay(reqs, { target: s.url }, { signal: ac.signal, onProgress: (p) => reports.push(p), progressIntervalMs: 10_000 });
    setTimeout(() => ac.abort(), 200);
    await running;
    expect(reports.map((p) => p.phase)).toEqual(['sending', 'stopping', 'finished']);
    expect(reports[1]!.stopReason).toBe('signal');
  });

  it('a progress sink that throws never stops the replay', async () => {
    const s = await fake();
    const run = await runReplay([req(1), req(1.01)], { target: s.url }, { signal: signal(), onProgress: () => { throw new Error('sink down'); }, progressIntervalMs: 5 });
    expect(run.results.map((r) => r.outcome.kind)).toEqual(['ok', 'ok']);
  });
});

describe('lazy bodies', () => {
  it('each body is built when its request is sent, not before the first request leaves', async () => {
    const s = await fake();
    const built: number[] = [];
    const reqs: ReplayRequest[] = [0, 1, 2].map((i) => ({ ...req(1 + i * 0.15), body: () => (built.push(performance.now()), { text: `lazy ${i}`, rid: `l${i}` }) }));
    await runReplay(reqs, { target: s.url, parallel: 4 }, { signal: signal() });
    expect(s.received.map((r) => r.body.rid)).toEqual(['l0', 'l1', 'l2']);
    expect(built).toHaveLength(3);
    expect(built[2]! - built[0]!).toBeGreaterThan(200); // built at their planned starts (300 ms apart), not all at once
  });

  it('a body that cannot be built is a bad record: counted, not sent, the replay goes on', async () => {
    const s = await fake();
    const bad: ReplayRequest = { ...req(1.01), body: () => { throw new (class extends Error {})('boom'); } };
    const run = await runReplay([req(1), bad, req(1.02)], { target: s.url }, { signal: signal() });
    expect(run.results.map((r) => r.outcome.kind)).toEqual(['ok', 'bad-record', 'ok']);
    expect(s.received).toHaveLength(2);
  });

  it('the recorded received_time is not resent (SGLang takes it as the creation time)', async () => {
    const dir = path.join(h.dir, 'received');
    const script = [
      'import os, pickle, sys',
      `sys.path.insert(0, ${JSON.stringify(path.resolve('test/fixtures/pickles'))})`,
      'from sglang_shim import GenerateReqInput',
      `os.makedirs(${JSON.stringify(dir)}, exist_ok=True)`,
      'r = GenerateReqInput(text="hi", rid="rt", received_time=1760000000.5, sampling_params={"max_new_tokens": 2})',
      `pickle.dump({"server_args": None, "requests": [(r, {}, 1760000000.5, 1760000001.0)]}, open(${JSON.stringify(path.join(dir, 'd.pkl'))}, "wb"))`,
    ].join('\n');
    execFileSync('python3', ['-c', script]);
    const s = await fake();
    const { requests } = await loadReplayRequests(path.join(dir, 'd.pkl'), { signal: signal() });
    await runReplay(requests, { target: s.url }, { signal: signal() });
    expect(s.received[0]!.body).toMatchObject({ text: 'hi', rid: 'rt', sampling_params: { max_new_tokens: 2 } });
    expect(s.received[0]!.body).not.toHaveProperty('received_time');
  });
});

describe('triage replay on hostile dumps (real loader)', () => {
  it('malformed records are skipped and counted; replay.json says how many', async () => {
    const s = await fake();
    await withTempDir(async (dir) => {
      const { ctx, err } = context(dir);
      const code = await createReplayCommand()([h.file('malformed_records.pkl'), '--target', s.url, '--out', dir], ctx);
      expect(code).toBe(0);
      expect(s.received.map((r) => r.body.rid)).toEqual(['g0', 'g1', 'g2']);
      expect(err()).toMatch(/skipped record 1 of malformed_records\.pkl|were not \(request, output, created, finished\) tuples/);
      const doc = JSON.parse(await readFile(path.join(dir, 'replay', 'replay.json'), 'utf8'));
      expect(doc.input.skipped).toBe(4);
      expect(doc.totals.sent).toBe(3);
    });
  });

  it('the memo bomb ends the replay before anything is sent, with E_LIMIT naming the record', async () => {
    const s = await fake();
    await withTempDir(async (dir) => {
      const { ctx } = context(dir);
      let caught: unknown;
      try {
        await createReplayCommand()([h.file('laughs_sampling_params.pkl'), '--target', s.url, '--out', dir], ctx);
      } catch (e) {
        caught = e;
      }
      expect(isTriageError(caught, 'E_LIMIT')).toBe(true);
      expect((caught as Error).message).toMatch(/the body of record 0 of laughs_sampling_params\.pkl would need more than/);
      expect(s.received).toHaveLength(0);
    });
  }, 30_000);
});
