import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EMPTY_REGISTRY } from '../../src/config/servers.js';
import { captureStep } from '../../src/pipelines/capture-step.js';
import { routeStep } from '../../src/pipelines/route-step.js';
import { SKILL_SCRIPT } from '../../src/triage/rules/profile.js';
import { startEmulator, type Emulator, type Scenario } from '../helpers/sglang-emulator.js';
import { FIXTURES, withTempDir } from '../helpers/tmp.js';

const FAULTS = path.join(FIXTURES, 'gpu-h200-faults');
const signal = new AbortController().signal;
let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function placeTrace(dir: string, rel = 'profiles/1764600000.123-TP-0.trace.json.gz'): Promise<string> {
  const dest = path.join(dir, rel);
  await mkdir(path.dirname(dest), { recursive: true });
  await copyFile(path.join(FAULTS, 'tiny-decoder.trace.json.gz'), dest);
  return dest;
}

async function captureBundle(scenario: Scenario, dir: string): Promise<void> {
  emulator = await startEmulator({ scenario });
  await captureStep({ baseUrl: emulator.url, outDir: dir, role: 'live', signal, now: () => new Date('2026-12-01T01:00:00Z'), timeoutS: 5, healthTimeoutS: 5 });
}

const route = async (dir: string) => (await routeStep(dir, { registry: EMPTY_REGISTRY, signal, write: false })).report;

/** The words a POSIX shell would pass for this command (CPython's shlex), to check quoting for real. */
const shellWords = (cmd: string): string[] => JSON.parse(execFileSync('python3', ['-c', 'import json,shlex,sys; print(json.dumps(shlex.split(sys.argv[1])))', cmd], { encoding: 'utf8' })) as string[];

describe('routing with a torch profiler trace', () => {
  it('a trace alone: slow → llm-torch-profiler-analysis, dominant kernel and share, the trace as --input', async () => {
    await withTempDir(async (dir) => {
      const trace = await placeTrace(dir);
      const r = await route(dir);
      expect(r.problemClass).toBe('slow');
      expect(r.nextStep.skill).toBe('llm-torch-profiler-analysis');
      expect(r.facts.dominantKernel).toBe('nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_bias_TNT');
      expect(r.facts.dominantKernelShare).toBeCloseTo(0.601, 2);
      expect(r.facts.dominantRange).toBe('forward');
      expect(r.strongestSignal).toMatch(/nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_bias_TNT takes 60% of 5\.8 ms kernel time; GPU 0 busy 11%/);
      // The real trace is launch-bound: the GPU idles ~89% of the window.
      expect(r.bestGuess).toMatch(/idle/);
      const run = r.nextStep.commands.find((c) => c.includes(SKILL_SCRIPT));
      expect(shellWords(run!)).toEqual(['python3', SKILL_SCRIPT, '--input', trace]);
      expect(r.evidence[0]!.file).toBe('profiles/1764600000.123-TP-0.trace.json.gz');
      expect(r.ruledOut.join(' ')).not.toMatch(/queue/);
    });
  });

  it('paths with spaces and quotes reach the command shell-quoted', async () => {
    await withTempDir(async (dir) => {
      const trace = await placeTrace(dir, "prof iles/it's here.json");
      const r = await route(dir);
      const run = r.nextStep.commands.find((c) => c.includes(SKILL_SCRIPT))!;
      expect(shellWords(run).at(-1)).toBe(trace);
    });
  });

  it('several rank traces in one folder are one skill run on the folder', async () => {
    await withTempDir(async (dir) => {
      await placeTrace(dir, 'profiles/a-TP-0.trace.json.gz');
      await placeTrace(dir, 'profiles/a-TP-1.trace.json.gz');
      const r = await route(dir);
      const runs = r.nextStep.commands.filter((c) => c.includes(SKILL_SCRIPT));
      expect(runs.map((c) => shellWords(c).at(-1))).toEqual([path.join(dir, 'profiles')]);
      expect(r.facts.profileTraces).toBe(2);
    });
  });

  it('compute-side slow bundle + trace: the trace names the kernel, the bundle the stage', async () => {
    await withTempDir(async (dir) => {
      await captureBundle('ttft-spike', dir);
      await placeTrace(dir);
      const r = await route(dir);
      expect(r.nextStep.skill).toBe('llm-torch-profiler-analysis');
      expect(r.facts.dominantKernel).toBe('nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_bias_TNT');
      expect(typeof r.facts.dominantStage).toBe('string');
      expect(r.ruledOut.join(' ')).toMatch(/queue pressure/);
      expect(r.evidence.map((e) => e.file)).toContain('profiles/1764600000.123-TP-0.trace.json.gz');
    });
  });

  it('queue pressure is never sent to the profiler, even with a trace in the folder', async () => {
    await withTempDir(async (dir) => {
      await captureBundle('queue-pressure', dir);
      await placeTrace(dir);
      const r = await route(dir);
      expect(r.problemClass).toBe('slow');
      expect(r.nextStep.skill).not.toBe('llm-torch-profiler-analysis');
    });
  });

  it('a located GPU fault outranks a trace', async () => {
    await withTempDir(async (dir) => {
      await placeTrace(dir);
      await copyFile(path.join(FAULTS, 'misaligned.cuda-gdb.txt'), path.join(dir, 'transcript.out'));
      const r = await route(dir);
      expect(r.problemClass).toBe('crash');
      expect(r.nextStep.skill).toBe('debug-cuda-crash');
    });
  });

  it('a CPU-only trace (no kernels) is read and listed, but names no kernel to profile', async () => {
    await withTempDir(async (dir) => {
      const doc = JSON.parse(await readFile(path.join(FAULTS, 'tiny-decoder.trace.json'), 'utf8')) as { traceEvents: Array<{ cat?: string }> };
      doc.traceEvents = doc.traceEvents.filter((e) => !['kernel', 'gpu_memset', 'gpu_memcpy', 'gpu_user_annotation'].includes(e.cat ?? ''));
      await writeFile(path.join(dir, 'cpu-only.json'), JSON.stringify(doc));
      const r = await route(dir);
      expect(r.nextStep.skill).not.toBe('llm-torch-profiler-analysis');
      expect(r.checked.join('\n')).toMatch(/cpu-only\.json: torch profiler trace: 0 kernel launches/);
    });
  });

  it('a replay that reproduced the slowness is carried into facts', async () => {
    await withTempDir(async (dir) => {
      await placeTrace(dir);
      await mkdir(path.join(dir, 'replay'));
      await writeFile(
        path.join(dir, 'replay', 'replay.json'),
        JSON.stringify({ artifact_type: 'replay', target: 'http://127.0.0.1:31000', reproduced: 'slow', reproducedWhy: 'TTFT 3.1 s vs 0.4 s baseline', totals: { planned: 1, sent: 1, outcomes: { ok: 1 } }, requests: [] }),
      );
      const r = await route(dir);
      expect(r.nextStep.skill).toBe('llm-torch-profiler-analysis');
      expect(r.facts.reproduced).toBe('slow');
    });
  });
});
