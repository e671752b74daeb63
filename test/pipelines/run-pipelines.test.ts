import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRegistry } from '../../src/config/servers.js';
import { readIncidentFile } from '../../src/incident/incident-file.js';
import { runPipeline } from '../../src/pipelines/index.js';
import type { PipelineDeps, StepProgress } from '../../src/pipelines/types.js';
import { startFakeSglang, type FakeSglang } from '../replay/fake-sglang.js';
import { startEmulator, type Emulator } from '../helpers/sglang-emulator.js';
import { REPO_ROOT, FIXTURES, withTempDir } from '../helpers/tmp.js';

const FAKES = path.join(REPO_ROOT, 'test', 'fakes', 'bin');
const MAKE_DUMP = path.join(REPO_ROOT, 'test', 'fixtures', 'pickles', 'make_incident_dump.py');
const silent = { debug() {}, info() {}, warn() {}, error() {} };

let servers: Array<Emulator | FakeSglang> = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

function deps(registryYaml: string): PipelineDeps {
  return {
    registry: parseRegistry(registryYaml, 'servers.yaml'),
    env: {},
    toolEnv: { PATH: `${FAKES}:${process.env.PATH}` },
    now: () => new Date(),
    logger: silent,
  };
}

describe('runPipeline (the code the CLI and the worker share)', () => {
  it('crash: log → named crash dump → summary → cuda-gdb on the coredump → debug-cuda-crash', async () => {
    await withTempDir(async (dir) => {
      const dumpPath = path.join(dir, 'crash', 'pod-a', 'crash_dump_2026-11-28_01-00-00.pkl');
      execFileSync('python3', [MAKE_DUMP, dumpPath, 'crash']);
      const log = path.join(dir, 'server.log');
      const recorded = await readFile(path.join(FIXTURES, 'gpu-h200', 'crash.stderr.txt'), 'utf8');
      await writeFile(log, `${recorded}\n[2026-11-28 01:00:00] Dumped 2 finished and 1 unfinished requests before crash to ${dumpPath}\n`);
      const cores = path.join(dir, 'cores');
      await mkdir(cores);
      // The real coredump recorded on H200 (an ELF core), under a name that says nothing.
      execFileSync('tar', ['-xJf', path.join(FIXTURES, 'gpu-h200', 'crash.cuda-coredump.tar.xz'), '-C', cores]);
      const emulator = await startEmulator({ scenario: 'reset' });
      servers.push(emulator);
      const yaml = `servers:\n  prod-a:\n    url: ${emulator.url}\n    host: gpu-1\n    logFile: ${log}\n    crashDumpDir: ${path.join(dir, 'crash')}\n    coredumpDir: ${cores}\n`;
      const d = deps(yaml);
      const progress: StepProgress[] = [];
      const incidentDir = path.join(dir, 'inc-crash');
      const result = await runPipeline({ pipeline: 'crash', server: { ...d.registry.servers['prod-a']!, name: 'prod-a' }, incidentDir, timeoutS: 2 }, d, new AbortController().signal, (p) => progress.push(p));

      expect(result.report?.problemClass).toBe('crash');
      expect(result.report?.nextStep.skill).toBe('debug-cuda-crash');
      expect(result.report?.facts.faultingKernel).toBe('moe_align_block_size_kernel');
      expect(await readdir(path.join(incidentDir, 'dumps'))).toContain('crash_dump_2026-11-28_01-00-00.pkl');
      const summary = JSON.parse(await readFile(path.join(incidentDir, 'dumps', 'dump-summary.json'), 'utf8'));
      expect(JSON.stringify(summary)).not.toContain('sk-secret-in-dump');
      expect((await readdir(path.join(incidentDir, 'coredumps'))).some((f) => f.endsWith('.cuda-gdb.txt'))).toBe(true);
      expect((await readdir(path.join(incidentDir, 'logs'))).length).toBe(1);
      const incident = await readIncidentFile(incidentDir);
      expect(incident?.status).toBe('routed');
      expect(incident?.timeline.map((t) => `${t.step}:${t.state}`)).toEqual(expect.arrayContaining(['capture baseline bundle:done', 'collect crash dumps:done', 'cuda-gdb on CUDA coredumps:done', 'route:done']));
      expect(progress.filter((p) => p.state === 'failed')).toEqual([]);
      // Skipped replay says why.
      expect(progress.find((p) => p.step === 'replay on the clean target' && p.state === 'skipped')?.detail).toMatch(/no clean replay target/);
    });
  });

  it('hang: the saved trigger hangs the clean target during replay → reproduced hang, routed as hang', async () => {
    await withTempDir(async (dir) => {
      const dumps = path.join(dir, 'crash', 'pod-a');
      execFileSync('python3', [MAKE_DUMP, path.join(dumps, 'crash_dump_2026-11-28_01-00-00.pkl'), 'crash']);
      const prod = await startEmulator({ scenario: 'healthy' });
      // The clean target answers short prompts and never answers the 769-token trigger.
      const target = await startFakeSglang({ hangWhen: (_b, tokens) => tokens >= 769 });
      servers.push(prod, target);
      const yaml = `servers:\n  prod-a:\n    url: ${prod.url}\n    host: gpu-1\n    crashDumpDir: ${path.join(dir, 'crash')}\n    replay:\n      url: ${target.url}\n`;
      const d = deps(yaml);
      const incidentDir = path.join(dir, 'inc-hang');
      const result = await runPipeline({ pipeline: 'hang', server: { ...d.registry.servers['prod-a']!, name: 'prod-a' }, incidentDir, timeoutS: 2 }, d, new AbortController().signal, () => undefined);
      const replay = JSON.parse(await readFile(path.join(incidentDir, 'replay', 'replay.json'), 'utf8'));
      expect(replay.reproduced).toBe('hang');
      expect(existsSync(path.join(incidentDir, 'replay', 'bundle-1', 'metadata.json'))).toBe(true);
      expect(result.report?.problemClass).toBe('hang');
      expect(JSON.stringify(result.report?.facts.triggerRequest)).toMatch(/769|hello/);
    }, );
  }, 120_000);

  it('replay: replays the folder\'s dumps on the clean target (not production) and routes', async () => {
    await withTempDir(async (dir) => {
      const incidentDir = path.join(dir, 'inc-replay');
      execFileSync('python3', [MAKE_DUMP, path.join(incidentDir, 'dumps', 'crash_dump_2026-11-28_01-00-00.pkl'), 'crash']);
      const prod = await startEmulator({ scenario: 'healthy' });
      const target = await startFakeSglang({});
      servers.push(prod, target);
      const d = deps(`servers:\n  prod-a:\n    url: ${prod.url}\n    host: gpu-1\n    replay:\n      url: ${target.url}\n`);
      const result = await runPipeline({ pipeline: 'replay', server: { ...d.registry.servers['prod-a']!, name: 'prod-a' }, incidentDir }, d, new AbortController().signal, () => undefined);
      expect(target.received.length).toBe(3);
      expect(prod.hits.filter((h) => h.startsWith('/generate'))).toEqual([]);
      const replay = JSON.parse(await readFile(path.join(incidentDir, 'replay', 'replay.json'), 'utf8'));
      expect(replay.reproduced).toBe(false);
      expect(existsSync(path.join(incidentDir, 'baseline'))).toBe(false);
      expect(result.report).not.toBeNull();
    });
  });

  it('a step that fails marks the incident failed and keeps what was collected', async () => {
    await withTempDir(async (dir) => {
      const d = deps('servers: {}\n');
      const incidentDir = path.join(dir, 'inc-abort');
      const controller = new AbortController();
      controller.abort(new Error('operator pressed Ctrl-C'));
      await expect(runPipeline({ pipeline: 'auto', server: { url: 'http://127.0.0.1:9' }, incidentDir }, d, controller.signal, () => undefined)).rejects.toThrow(/aborted/);
      expect((await readIncidentFile(incidentDir))?.status).toBe('failed');
    });
  });
});

export { copyFile };
