import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli/io.js';
import { cliEnvSchema, credentialsFrom, loadEnv } from '../../src/config/env.js';
import { main } from '../../src/cli/main.js';
import { createReplayCommand, defaultOutDir, type LoadRequests } from '../../src/cli/replay.js';
import type { ReplayRequest } from '../../src/replay/types.js';
import { withTempDir } from '../helpers/tmp.js';
import { req, useFakeSglang } from './fake-sglang.js';

const fake = useFakeSglang(afterEach);

function context(dir: string, over: Partial<CliContext> & { environment?: Record<string, string> } = {}) {
  const { environment = {}, ...rest } = over;
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const ctx: CliContext = { stdout, stderr, env: loadEnv(cliEnvSchema, environment), credentials: credentialsFrom(environment), cwd: dir, signal: new AbortController().signal, interactive: false, ...rest };
  return { ctx, out: () => out, err: () => err };
}

const loaderOf =
  (requests: ReplayRequest[]): LoadRequests =>
  async (input) => ({ requests, files: [input] });

describe('triage replay (in-process, loader injected)', () => {
  it('--json prints one JSON document, writes <out>/replay/replay.json, progress and summary on stderr', async () => {
    const s = await fake({ delayMs: 150 });
    await withTempDir(async (dir) => {
      const { ctx, out, err } = context(dir);
      const cmd = createReplayCommand({ loadRequests: loaderOf([req(1), req(1.05, { stream: true })]), progressIntervalMs: 20 });
      const code = await cmd(['dump.pkl', '--target', s.url, '--out', 'inc', '--json', '--parallel', '2', '--speed', '2'], ctx);
      expect(code).toBe(0);
      const summary = JSON.parse(out());
      expect(summary.reproduced).toBe(false);
      expect(summary.replayJson).toBe(path.join(dir, 'inc', 'replay', 'replay.json'));
      const doc = JSON.parse(await readFile(summary.replayJson, 'utf8'));
      expect(doc.artifact_type).toBe('replay');
      expect(doc.options).toMatchObject({ parallel: 2, speed: 2 });
      expect(doc.input.source).toBe(path.join(dir, 'dump.pkl'));
      expect(err()).toMatch(/replaying 2 request\(s\)/);
      expect(err()).toMatch(/reproduced: false/);
      // Progress on stderr: each phase as it starts, ticks with the oldest in-flight request's age, and the end.
      expect(err()).toMatch(/replay sending \+\d+\.\ds: sent \d\/2, in flight \d, done \d, failed 0/);
      expect(err()).toMatch(/in flight [12], done \d, failed 0, oldest in flight \d+\.\ds \(idx \d\)/);
      expect(err()).toMatch(/replay draining \+/);
      expect(err()).toMatch(/replay finished \+\d+\.\ds: sent 2\/2, in flight 0, done 2, failed 0\n/);
    });
  });

  it('a hang of the target is a finding: exit 0 with reproduced=hang', async () => {
    const s = await fake({ hangWhen: (b) => b.rid === 'stuck' });
    await withTempDir(async (dir) => {
      const { ctx, out } = context(dir);
      const reqs = [req(1), req(1.01, { rid: 'stuck', body: { text: 'x', rid: 'stuck' } })];
      const code = await createReplayCommand({ loadRequests: loaderOf(reqs) })(['d', '--target', s.url, '--timeout', '0.3', '--out', dir, '--json'], ctx);
      expect(code).toBe(0);
      expect(JSON.parse(out())).toMatchObject({ reproduced: 'hang', trigger: { rid: 'stuck' } });
    });
  });

  it('a named server means its clean replay target and that target\'s tokenEnv; production is never replayed on by name', async () => {
    const s = await fake({ token: 'tok-abcdef123' });
    await withTempDir(async (dir) => {
      const yaml = path.join(dir, 'servers.yaml');
      await writeFile(yaml, `servers:\n  prod-a:\n    url: http://127.0.0.1:9\n    host: gpu-1\n    replay:\n      url: ${s.url}\n      tokenEnv: PROD_A_TOKEN\n  prod-b:\n    url: ${s.url}\n    host: gpu-1\n`);
      const refused = context(dir, { environment: { TRIAGE_SERVERS: yaml } });
      await expect(createReplayCommand({ loadRequests: loaderOf([req(1)]) })(['d', '--target', 'prod-b', '--out', dir], refused.ctx)).rejects.toThrow(/no clean replay target/);
      expect(s.received).toHaveLength(0);
      const { ctx, out, err } = context(dir, { environment: { TRIAGE_SERVERS: yaml, PROD_A_TOKEN: 'tok-abcdef123' } });
      const code = await createReplayCommand({ loadRequests: loaderOf([req(1)]) })(['d', '--target', 'prod-a', '--out', dir, '--json'], ctx);
      expect(code).toBe(0);
      expect(JSON.parse(out()).totals.outcomes.ok).toBe(1);
      expect(s.received[0]!.headers.authorization).toBe('Bearer tok-abcdef123');
      const written = await readFile(path.join(dir, 'replay', 'replay.json'), 'utf8');
      expect(written + out() + err()).not.toContain('tok-abcdef123');
    });
  });

  it('without the token every request is rejected: exit 1, inconclusive, file still written', async () => {
    const s = await fake({ token: 'tok-abcdef123' });
    await withTempDir(async (dir) => {
      const { ctx, out } = context(dir);
      const code = await createReplayCommand({ loadRequests: loaderOf([req(1)]) })(['d', '--target', s.url, '--out', dir], ctx);
      expect(code).toBe(1);
      expect(out()).toMatch(/inconclusive.*401/);
      expect(JSON.parse(await readFile(path.join(dir, 'replay', 'replay.json'), 'utf8')).reproduced).toBe('inconclusive');
    });
  });

  it('Ctrl-C stops promptly and still writes a partial replay.json (exit 1)', async () => {
    const s = await fake({ delayMs: 20_000 });
    await withTempDir(async (dir) => {
      const ac = new AbortController();
      const { ctx } = context(dir, { signal: ac.signal });
      setTimeout(() => ac.abort(new Error('received SIGINT')), 200);
      const started = performance.now();
      const code = await createReplayCommand({ loadRequests: loaderOf([req(1), req(100)]) })(['d', '--target', s.url, '--out', dir], ctx);
      expect(performance.now() - started).toBeLessThan(3000);
      expect(code).toBe(1);
      const doc = JSON.parse(await readFile(path.join(dir, 'replay', 'replay.json'), 'utf8'));
      expect(doc.stopped.reason).toBe('signal');
      expect(doc.requests.map((r: { outcome: { kind: string } }) => r.outcome.kind)).toEqual(['aborted', 'not-sent']);
    });
  });

  it('the default --out is the incident folder around dumps/, else a new incident folder', async () => {
    await withTempDir(async (dir) => {
      const now = new Date('2026-11-28T01:16:00Z');
      expect(defaultOutDir('inc-1/dumps', dir, now)).toBe(path.join(dir, 'inc-1'));
      expect(defaultOutDir('inc-1/dumps/crash_dump_x.pkl', dir, now)).toBe(path.join(dir, 'inc-1'));
      await mkdir(path.join(dir, 'inc-2'));
      await writeFile(path.join(dir, 'inc-2', 'incident.json'), '{}');
      expect(defaultOutDir('inc-2/x.pkl', dir, now)).toBe(path.join(dir, 'inc-2'));
      expect(path.basename(defaultOutDir('/elsewhere/x.pkl', dir, now))).toMatch(/^inc-20261128-0116-replay-[0-9a-f]{4}$/);
    });
  });
});

describe('triage replay through main()', () => {
  it('usage errors exit 2', async () => {
    await withTempDir(async (dir) => {
      const cases = [['replay'], ['replay', 'd.pkl'], ['replay', 'd.pkl', '--target', 'http://127.0.0.1:1', '--parallel', '0'], ['replay', 'd.pkl', '--target', 'http://127.0.0.1:1', '--speed', 'fast'], ['replay', 'd.pkl', '--target', 'no-such-server']];
      for (const argv of cases) {
        const { ctx, err } = context(dir);
        expect(await main(argv, ctx)).toBe(2);
        expect(err()).toMatch(/usage: triage replay|unknown server/);
      }
    });
  });
});
