import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMPTY_REGISTRY } from '../../src/config/servers.js';
import { routeStep } from '../../src/pipelines/route-step.js';
import { reportSchema } from '../../src/contracts/report.js';
import { sglangMetrics } from '../helpers/sglang-metrics.js';
import { withTempDir } from '../helpers/tmp.js';

/** Writes a bundle the way the reference tool (incident_artifact_tool.py collect-bundle) lays it out. */
async function referenceBundle(dir: string, healthy: boolean) {
  await mkdir(dir, { recursive: true });
  const w = (f: string, body: unknown) => writeFile(path.join(dir, f), typeof body === 'string' ? body : JSON.stringify(body, null, 2));
  await w('metadata.json', { artifact_type: 'incident_bundle', base_url: 'http://10.1.2.3:30000', collected_at: '20260420_142315', token_provided: false, timeout_seconds: 10.0 });
  const okJson = (p: string, json: unknown) => ({ ok: true, status: 200, path: p, json });
  const serverInfo = { model_path: 'Qwen/Qwen3-8B', tp_size: 2, dp_size: 1, pp_size: 1, ep_size: 1, enable_metrics: true };
  if (healthy) {
    await w('health.txt', '');
    await w('health_generate.txt', '');
    await w('metrics.txt', sglangMetrics({ requests: 10, promptTokens: 5000, generationTokens: 1000, ttftSum: 2, e2eSum: 10, queueSum: 0.1, running: 1, waiting: 0, tokenUsage: 0.1 }));
    await w('model_info.json', okJson('/model_info', { model_path: 'Qwen/Qwen3-8B' }));
    await w('server_info.json', okJson('/server_info', serverInfo));
    await w('loads_all.json', okJson('/v1/loads?include=all', { loads: [{ dp_rank: 0, num_running_reqs: 1, num_waiting_reqs: 0, token_usage: 0.1 }] }));
    await w('loads_core_queues_disagg.json', okJson('/v1/loads?include=core,queues,disagg,spec', { loads: [] }));
  } else {
    // The case study's replay-time bundle, error strings exactly as Python's urllib prints them.
    await w('health.txt.error.json', { ok: false, status: -1, path: '/health', error: 'TimeoutError: timed out' });
    await w('health_generate.txt.error.json', { ok: false, status: -1, path: '/health_generate', error: 'TimeoutError: timed out' });
    await w('metrics.txt.error.json', { ok: false, status: -1, path: '/metrics', error: 'TimeoutError: timed out' });
    await w('model_info.json', { ok: false, status: -1, path: '/model_info', error: 'TimeoutError: timed out' });
    await w('server_info.json', { ok: false, status: -1, path: '/server_info', error: 'TimeoutError: timed out' });
    await w('loads_all.json', { ok: false, status: -1, path: '/v1/loads?include=all', error: 'ConnectionResetError: [Errno 104] Connection reset by peer' });
    await w('loads_core_queues_disagg.json', { ok: false, status: -1, path: '/v1/loads?include=core,queues,disagg,spec', error: 'URLError: <urlopen error [Errno 111] Connection refused>' });
  }
  await w('hicache_storage_backend.json', { ok: false, status: 400, path: '/hicache/storage-backend', error: '{"error":"This endpoint requires admin API key"}' });
  await w('SUMMARY.txt', 'health.txt: ok\n');
}

const signal = new AbortController().signal;

describe('route on reference-tool bundles', () => {
  it('a bare reference bundle folder is a valid input', async () => {
    await withTempDir(async (dir) => {
      await referenceBundle(dir, true);
      const { report } = await routeStep(dir, { registry: EMPTY_REGISTRY, signal });
      expect(reportSchema.safeParse(report).success).toBe(true);
      expect(report.checked[0]).toMatch(/bundle/);
      expect(JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')).problemClass).toBe(report.problemClass);
      expect(await readFile(path.join(dir, 'report.md'), 'utf8')).toMatch(/^# Incident triage/);
    });
  });

  it('the hang case study: healthy baseline, degraded replay-time bundle → hang, not profiling', async () => {
    await withTempDir(async (dir) => {
      await referenceBundle(path.join(dir, 'baseline'), true);
      await referenceBundle(path.join(dir, 'replay', 'bundle'), false);
      const { report, evidence } = await routeStep(dir, { registry: EMPTY_REGISTRY, signal });
      const replay = evidence.of('bundle').find((b) => b.data.role === 'replay')!;
      expect(replay.data.endpoints['health.txt']!.state).toBe('timeout');
      expect(replay.data.endpoints['loads_all.json']!.state).toBe('reset');
      expect(replay.data.endpoints['loads_core_queues_disagg.json']!.state).toBe('refused');
      expect(report.problemClass).toBe('hang');
      expect(report.nextStep.skill).toBe('debug-distributed-hang');
      expect(report.nextStep.skill).not.toBe('llm-torch-profiler-analysis');
      expect(report.evidence.some((e) => e.file === 'replay/bundle/loads_all.json' && /reset/.test(e.fact))).toBe(true);
      // Stacks before the attach; the coredump (which ends the process) only as a commented alternative.
      const cmds = report.nextStep.commands.join('\n');
      expect(cmds.indexOf('py-spy dump')).toBeLessThan(cmds.indexOf('cuda-gdb -p'));
      expect(report.nextStep.commands.filter((c) => c.includes('corepipe')).every((c) => c.startsWith('#'))).toBe(true);
    });
  });

  it('an empty folder routes to unknown / collect-more instead of failing', async () => {
    await withTempDir(async (dir) => {
      const { report } = await routeStep(dir, { registry: EMPTY_REGISTRY, signal });
      expect(report.problemClass).toBe('unknown');
      expect(report.nextStep.skill).toBe('collect-more');
    });
  });
});

describe('reading a bundle never blocks or leaves the folder', () => {
  it('a FIFO named health.txt and a metrics.txt linked to a file outside the bundle read as missing', async () => {
    const { execFileSync } = await import('node:child_process');
    const { symlink } = await import('node:fs/promises');
    await withTempDir(async (dir) => {
      const bundle = path.join(dir, 'bundle');
      await referenceBundle(bundle, true);
      const { rm } = await import('node:fs/promises');
      await rm(path.join(bundle, 'health.txt'));
      await rm(path.join(bundle, 'metrics.txt'));
      execFileSync('mkfifo', [path.join(bundle, 'health.txt')]);
      await writeFile(path.join(dir, 'outside-metrics.txt'), 'sglang:num_requests_total{model_name="m"} 424242.0\n');
      await symlink(path.join(dir, 'outside-metrics.txt'), path.join(bundle, 'metrics.txt'));
      const { evidence } = await routeStep(bundle, { registry: EMPTY_REGISTRY, signal });
      const b = evidence.of('bundle')[0]!.data;
      expect(b.endpoints['health.txt']!.state).toBe('missing');
      expect(b.endpoints['metrics.txt']!.state).toBe('missing');
      expect(b.metrics.request_count).toBeNull();
    });
  }, 20_000);
});
