import { readFile, readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EMPTY_REGISTRY } from '../../src/config/servers.js';
import { captureStep } from '../../src/pipelines/capture-step.js';
import { routeStep } from '../../src/pipelines/route-step.js';
import { EMULATOR_SECRETS, startEmulator, type Emulator, type Scenario } from '../helpers/sglang-emulator.js';
import { withTempDir } from '../helpers/tmp.js';

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function capture(scenario: Scenario, dir: string, extra: { token?: string; timeoutS?: number; healthTimeoutS?: number } = {}) {
  emulator = await startEmulator({ scenario });
  return captureStep({
    baseUrl: emulator.url,
    outDir: dir,
    role: 'live',
    signal: new AbortController().signal,
    now: () => new Date('2026-11-28T01:00:00Z'),
    timeoutS: extra.timeoutS ?? 5,
    healthTimeoutS: extra.healthTimeoutS ?? 5,
    ...(extra.token ? { token: extra.token } : {}),
  });
}

const outcomes = (r: Awaited<ReturnType<typeof capture>>) => Object.fromEntries(r.capture.endpoints.map((e) => [e.spec.file, e.outcome.kind]));

describe('capture against real local servers', () => {
  it('healthy: every endpoint ok, reference file names, no alarming signal', async () => {
    await withTempDir(async (dir) => {
      const r = await capture('healthy', dir);
      expect(outcomes(r)).toMatchObject({ 'health.txt': 'ok', 'metrics.txt': 'ok', 'server_info.json': 'ok', 'loads_all.json': 'ok' });
      const files = (await readdir(dir)).sort();
      expect(files).toEqual(
        expect.arrayContaining(['health.txt', 'health_generate.txt', 'metrics.txt', 'model_info.json', 'server_info.json', 'loads_all.json', 'loads_core_queues_disagg.json', 'hicache_storage_backend.json', 'metadata.json', 'SUMMARY.txt']),
      );
      // JSON endpoints keep the reference tool's wrapper so either tool reads the other's bundles.
      const model = JSON.parse(await readFile(path.join(dir, 'model_info.json'), 'utf8'));
      expect(model).toMatchObject({ ok: true, status: 200, path: '/model_info', json: { model_type: 'qwen3' } });
      expect(r.summary.signals.filter((s) => s.level !== 'info')).toEqual([]);
    });
  });

  it('TTFT spike with low queue reproduces the case study numbers and routes to the profiler', async () => {
    await withTempDir(async (dir) => {
      const r = await capture('ttft-spike', dir);
      const s = r.summary;
      expect(s.point_in_time_load).toMatchObject({ running_reqs: 1, waiting_reqs: 0, token_usage: 0.41, throughput: 29.8, cache_hit_rate: 0.97 });
      expect(s.metrics.request_count).toBe(2);
      expect(s.metrics.prompt_tokens_total).toBe(1540);
      expect(s.metrics.generation_tokens_total).toBe(128);
      expect(s.metrics.avg_ttft_seconds).toBeCloseTo(3.21, 3);
      expect(s.metrics.avg_e2e_seconds).toBeCloseTo(4.15, 3);
      expect(s.metrics.avg_queue_time_seconds).toBeCloseTo(0.03, 3);
      // Max across TP ranks: rank 0 averages 2.9 s, rank 1 2.5 s.
      expect(s.metrics.stage_avg_seconds_max_tp_rank.prefill_forward).toBeCloseTo(2.9, 3);
      expect(s.metrics.stage_avg_seconds_max_tp_rank.request_process).toBeCloseTo(0.09, 3);
      expect(r.summaryText).toContain('avg_ttft_s=3.210 avg_e2e_s=4.150 avg_queue_s=0.030');

      const { report } = await routeStep(dir, { registry: EMPTY_REGISTRY, signal: new AbortController().signal });
      expect(report.problemClass).toBe('slow');
      expect(report.nextStep.skill).toBe('llm-torch-profiler-analysis');
      expect(report.facts.dominantStage).toBe('prefill_forward');
      // No replay yet: the commands begin with save-and-replay, filled in with this server's URL.
      expect(report.nextStep.commands[0]).toContain(`${emulator!.url}/configure_logging`);
      expect(report.nextStep.commands.findIndex((c) => c.startsWith('triage replay'))).toBeLessThan(report.nextStep.commands.findIndex((c) => c.includes('start_profile')));
      expect(report.ruledOut.join(' ')).toMatch(/queue pressure/);
    });
  });

  it('queue pressure is slow but never sent to the profiler', async () => {
    await withTempDir(async (dir) => {
      await capture('queue-pressure', dir);
      const { report } = await routeStep(dir, { registry: EMPTY_REGISTRY, signal: new AbortController().signal });
      expect(report.problemClass).toBe('slow');
      expect(report.nextStep.skill).not.toBe('llm-torch-profiler-analysis');
      expect(report.nextStep.commands.join('\n')).not.toContain('start_profile');
      expect(report.strongestSignal).toMatch(/queue|Token usage/i);
    });
  });

  it('a hung server never makes capture wait past the deadline', async () => {
    await withTempDir(async (dir) => {
      const started = performance.now();
      const r = await capture('hung', dir, { timeoutS: 1, healthTimeoutS: 1.5 });
      const elapsed = performance.now() - started;
      expect(Object.values(outcomes(r)).every((k) => k === 'timeout')).toBe(true);
      expect(elapsed).toBeLessThan(r.capture.deadlineMs + 1500);
      const err = JSON.parse(await readFile(path.join(dir, 'health.txt.error.json'), 'utf8'));
      expect(err).toMatchObject({ ok: false, status: -1, path: '/health', outcome: 'timeout' });
      expect(err.error).toMatch(/^TimeoutError/);
      const loads = JSON.parse(await readFile(path.join(dir, 'loads_all.json'), 'utf8'));
      expect(loads.ok).toBe(false);
      expect(r.summary.signals.map((s) => s.id)).toContain('control-plane-degraded');
    });
  });

  it('a server that resets connections gives reset outcomes', async () => {
    await withTempDir(async (dir) => {
      const r = await capture('reset', dir);
      expect(new Set(Object.values(outcomes(r)))).toEqual(new Set(['reset']));
      const err = JSON.parse(await readFile(path.join(dir, 'metrics.txt.error.json'), 'utf8'));
      expect(err.error).toMatch(/^ConnectionResetError/);
    });
  });

  it('a closed port gives refused outcomes and routes to unhealthy', async () => {
    await withTempDir(async (dir) => {
      const port = await freePort();
      const r = await captureStep({ baseUrl: `http://127.0.0.1:${port}`, outDir: dir, role: 'live', signal: new AbortController().signal, now: () => new Date(), timeoutS: 2, healthTimeoutS: 2 });
      expect(new Set(r.capture.endpoints.map((e) => e.outcome.kind))).toEqual(new Set(['refused']));
      const { report } = await routeStep(dir, { registry: EMPTY_REGISTRY, signal: new AbortController().signal });
      expect(report.problemClass).toBe('unhealthy');
      expect(report.strongestSignal).toMatch(/refused/);
    });
  });

  it('garbage JSON is bad-body, and the bundle is still written', async () => {
    await withTempDir(async (dir) => {
      const r = await capture('garbage', dir);
      expect(outcomes(r)['server_info.json']).toBe('bad-body');
      expect(outcomes(r)['health.txt']).toBe('ok');
      const si = JSON.parse(await readFile(path.join(dir, 'server_info.json'), 'utf8'));
      expect(si).toMatchObject({ ok: false, path: '/server_info', outcome: 'bad-body' });
    });
  });

  it('JSON nested 200 000 deep is bad-body, not a stack overflow that loses the bundle', async () => {
    await withTempDir(async (dir) => {
      const { createServer } = await import('node:http');
      const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
      const srv = createServer((req, res) => {
        res.writeHead(200, { 'content-type': req.url?.startsWith('/health') || req.url === '/metrics' ? 'text/plain' : 'application/json' });
        res.end(req.url?.startsWith('/health') || req.url === '/metrics' ? '' : deep);
      });
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      try {
        const port = (srv.address() as { port: number }).port;
        const r = await captureStep({ baseUrl: `http://127.0.0.1:${port}`, outDir: dir, role: 'live', signal: new AbortController().signal, now: () => new Date(), timeoutS: 5, healthTimeoutS: 5 });
        expect(r.capture.endpoints.find((e) => e.spec.file === 'model_info.json')!.outcome).toMatchObject({ kind: 'bad-body' });
        expect((await readdir(dir)).sort()).toContain('SUMMARY.txt');
      } finally {
        srv.closeAllConnections();
        await new Promise<void>((r) => srv.close(() => r()));
      }
    });
  });

  it('a 2 GB body is cut off as too-large without reaching memory', async () => {
    await withTempDir(async (dir) => {
      const before = process.memoryUsage().rss;
      emulator = await startEmulator({ scenario: 'huge-body' });
      const r = await captureStep({ baseUrl: emulator.url, outDir: dir, role: 'live', signal: new AbortController().signal, now: () => new Date(), timeoutS: 5, healthTimeoutS: 5, maxBodyBytes: 8 * 1024 * 1024 });
      const metrics = r.capture.endpoints.find((e) => e.spec.file === 'metrics.txt')!;
      expect(metrics.outcome.kind).toBe('too-large');
      expect(process.memoryUsage().rss - before).toBeLessThan(512 * 1024 * 1024);
      expect(outcomes(r)['model_info.json']).toBe('ok');
    });
  });

  it('api-key server: the token is sent, and secrets never reach disk', async () => {
    await withTempDir(async (dir) => {
      const withToken = await capture('api-key', path.join(dir, 'with'), { token: EMULATOR_SECRETS.apiKey });
      expect(outcomes(withToken)['server_info.json']).toBe('ok');
      await emulator!.close();
      const without = await capture('api-key', path.join(dir, 'without'));
      const si = without.capture.endpoints.find((e) => e.spec.file === 'server_info.json')!.outcome;
      expect(si).toMatchObject({ kind: 'http-error', status: 401 });
      // /health and /metrics are open even with keys configured.
      expect(outcomes(without)['health.txt']).toBe('ok');

      const text = await readFile(path.join(dir, 'with', 'server_info.json'), 'utf8');
      for (const secret of [EMULATOR_SECRETS.apiKey, EMULATOR_SECRETS.adminKey, 'hunter2', 'AKIASECRET', 'SECRETVALUE']) expect(text).not.toContain(secret);
      const parsed = JSON.parse(text).json;
      expect(parsed.api_key).toBe('<redacted>');
      expect(JSON.parse(await readFile(path.join(dir, 'with', 'metadata.json'), 'utf8')).token_provided).toBe(true);
      const all = await Promise.all((await readdir(path.join(dir, 'with'))).map((f) => readFile(path.join(dir, 'with', f), 'utf8')));
      expect(all.join('\n')).not.toContain(EMULATOR_SECRETS.apiKey);
    });
  });

  it('the admin key goes only to ADMIN_OPTIONAL routes, and the hicache config it unlocks is redacted', async () => {
    await withTempDir(async (dir) => {
      emulator = await startEmulator({ scenario: 'api-key' });
      const r = await captureStep({ baseUrl: emulator.url, outDir: dir, role: 'live', signal: new AbortController().signal, now: () => new Date(), timeoutS: 5, healthTimeoutS: 5, token: EMULATOR_SECRETS.apiKey, adminToken: EMULATOR_SECRETS.adminKey });
      expect(outcomes(r)['hicache_storage_backend.json']).toBe('ok');
      expect(outcomes(r)['server_info.json']).toBe('ok');
      const text = await readFile(path.join(dir, 'hicache_storage_backend.json'), 'utf8');
      expect(text).not.toContain('HICACHE-SECRET');
      expect(text).toContain('mooncake');
    });
  });

  it('an old server without /v1/loads falls back to /get_load, /get_server_info and /get_model_info', async () => {
    await withTempDir(async (dir) => {
      const r = await capture('old-server', dir);
      const byFile = Object.fromEntries(r.capture.endpoints.map((e) => [e.spec.file, e]));
      expect(byFile['loads_all.json']!.path).toBe('/get_load');
      expect(byFile['server_info.json']!.path).toBe('/get_server_info');
      expect(byFile['model_info.json']!.path).toBe('/get_model_info');
      expect(byFile['loads_all.json']!.outcome.kind).toBe('ok');
      expect(r.summary.point_in_time_load).toMatchObject({ envelope: 'get_load', running_reqs: 12, waiting_reqs: 0 });
    });
  });

  it('the endpoints are read in parallel', async () => {
    await withTempDir(async (dir) => {
      emulator = await startEmulator({ scenario: 'healthy', latencyMs: Object.fromEntries(['/health', '/health_generate', '/metrics', '/model_info', '/server_info', '/v1/loads', '/hicache/storage-backend'].map((p) => [p, 300])) });
      const r = await captureStep({ baseUrl: emulator.url, outDir: dir, role: 'live', signal: new AbortController().signal, now: () => new Date(), timeoutS: 5, healthTimeoutS: 5 });
      expect(r.capture.endpoints.every((e) => e.outcome.kind !== 'timeout')).toBe(true);
      // All eight were in flight at once (a sequential collector never exceeds one).
      expect(emulator.maxInFlight()).toBe(8);
    });
  });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
