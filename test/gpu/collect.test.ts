import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTriageError } from '../../src/errors.js';
import { coredumpPipePath, triggerUserCoredump } from '../../src/evidence/collect/coredump-trigger.js';
import { attachCudaGdb, inspectCoredump } from '../../src/evidence/collect/cuda-gdb.js';
import { collectNvidiaSmi } from '../../src/evidence/collect/nvidia-smi.js';
import { collectPySpy, collectPySpyWithFallback } from '../../src/evidence/collect/py-spy.js';
import { runUnderSanitizer } from '../../src/evidence/collect/compute-sanitizer.js';
import { collectRankEvidence } from '../../src/evidence/collect/rank-evidence.js';
import { runTool } from '../../src/evidence/collect/run-tool.js';
import { REPO_ROOT, routeFolder } from './helpers.js';

/** Real subprocesses: fake cuda-gdb / py-spy / nvidia-smi / compute-sanitizer on PATH print recorded output. */
const FAKES = path.join(REPO_ROOT, 'test/fakes/bin');
const env = (extra: Record<string, string> = {}): Record<string, string> => ({ PATH: `${FAKES}:/usr/bin:/bin`, ...extra });
const never = new AbortController().signal;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'triage-collect-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('GPU tool collectors', () => {
  it('nvidia-smi: table and both CSV queries into gpu/', async () => {
    const out = await collectNvidiaSmi({ incidentDir: dir, signal: never, env: env(), label: 'hang' });
    expect(out.table).toMatchObject({ kind: 'ok', file: path.join(dir, 'gpu/nvidia-smi.hang.txt') });
    expect(out.gpus.kind).toBe('ok');
    expect(out.apps.kind).toBe('ok');
    expect(await readFile(path.join(dir, 'gpu/nvidia-smi.hang.gpus.csv'), 'utf8')).toContain('1, 100 %, 1591 MiB');
  });

  it('py-spy: --native into stacks/, and the plain fallback when --native fails', async () => {
    const native = await collectPySpy({ incidentDir: dir, pid: 48213, signal: never, env: env() });
    expect(native).toMatchObject({ kind: 'ok', file: path.join(dir, 'stacks/py-spy.48213.native.txt') });
    const fallback = await collectPySpyWithFallback({ incidentDir: dir, pid: 48212, signal: never, env: env({ FAKE_PYSPY_NATIVE_FAILS: '1' }) });
    expect(fallback).toMatchObject({ kind: 'ok', file: path.join(dir, 'stacks/py-spy.48212.txt') });
    expect(await readFile(path.join(dir, 'stacks/py-spy.48212.txt'), 'utf8')).toContain('recv_requests');
  });

  it('cuda-gdb attach and coredump inspection: transcripts land in stacks/ and coredumps/', async () => {
    const attach = await attachCudaGdb({ incidentDir: dir, pid: 930, signal: never, env: env() });
    expect(attach).toMatchObject({ kind: 'ok', file: path.join(dir, 'stacks/cuda-gdb-attach.930.txt') });
    const core = await inspectCoredump({ incidentDir: dir, coredump: '/tmp/cores/cuda_coredump_vm.677.1795827351', signal: never, env: env() });
    expect(core).toMatchObject({ kind: 'ok', file: path.join(dir, 'coredumps/cuda_coredump_vm.677.1795827351.cuda-gdb.txt') });
    const report = await routeFolder(dir);
    expect(report.facts.faultingKernel).toBe('moe_align_block_size_kernel');
  });

  it('a failed attach keeps what the tool said', async () => {
    const out = await attachCudaGdb({ incidentDir: dir, pid: 1, signal: never, env: env() });
    expect(out).toMatchObject({ kind: 'failed', exitCode: 1, file: path.join(dir, 'stacks/cuda-gdb-attach.1.txt') });
    expect(await readFile(path.join(dir, 'stacks/cuda-gdb-attach.1.txt'), 'utf8')).toContain('No such process');
  });

  it('compute-sanitizer: a run that finds errors is a usable result', async () => {
    const out = await runUnderSanitizer({ incidentDir: dir, command: ['python3', 'crash_repro.py'], signal: never, env: env() });
    expect(out).toMatchObject({ kind: 'ok', exitCode: 1 });
  });

  it('a tool that is not installed is "not-installed", not an exception', async () => {
    const out = await attachCudaGdb({ incidentDir: dir, pid: 930, signal: never, env: { PATH: '/nonexistent' } });
    expect(out).toEqual({ kind: 'not-installed', tool: 'cuda-gdb' });
    const smi = await collectNvidiaSmi({ incidentDir: dir, signal: never, env: { PATH: '/nonexistent' } });
    expect(smi.apps.kind).toBe('not-installed');
  });

  it('a hung tool is killed at its deadline', async () => {
    const started = Date.now();
    const out = await attachCudaGdb({ incidentDir: dir, pid: 930, signal: never, env: env({ FAKE_GPU_TOOL_HANG: '1' }), timeoutMs: 400 });
    expect(out.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await readFile(path.join(dir, 'stacks/cuda-gdb-attach.930.txt'), 'utf8')).toMatch(/printed nothing before its 400 ms deadline/);
  });

  it('the caller aborting stops the tool and raises E_ABORTED', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('job cancelled')), 200);
    const err = await runTool({ tool: 'py-spy', args: ['dump', '--pid', '1'], outFile: path.join(dir, 'x.txt'), timeoutMs: 10_000, signal: controller.signal, env: env({ FAKE_GPU_TOOL_HANG: '1' }) }).catch((e: unknown) => e);
    expect(isTriageError(err, 'E_ABORTED')).toBe(true);
  });
});

describe('user-triggered CUDA coredump', () => {
  it('writes to the pipe when a reader (the CUDA driver) is there', async () => {
    const pipe = path.join(dir, 'corepipe.cuda.vm.930');
    await execa('mkfifo', [pipe]);
    const got = path.join(dir, 'got');
    const reader = execa('sh', ['-c', 'cat "$0" > "$1"', pipe, got]);
    expect(await triggerUserCoredump(pipe, { signal: never, timeoutMs: 5000 })).toEqual({ kind: 'ok', pipe });
    await reader;
    expect(await readFile(got, 'utf8')).toBe('1');
  });

  it('times out when nobody reads the pipe, instead of blocking forever', async () => {
    const pipe = path.join(dir, 'corepipe');
    await execa('mkfifo', [pipe]);
    const out = await triggerUserCoredump(pipe, { signal: never, timeoutMs: 300, pollMs: 50 });
    expect(out.kind).toBe('timeout');
  });

  it('missing pipe and regular files are refused', async () => {
    expect(await triggerUserCoredump(path.join(dir, 'nope'), { signal: never })).toMatchObject({ kind: 'missing' });
    const file = path.join(dir, 'plain');
    await writeFile(file, '');
    expect(await triggerUserCoredump(file, { signal: never })).toMatchObject({ kind: 'failed' });
  });

  it('expands the CUDA_COREDUMP_PIPE template', () => {
    expect(coredumpPipePath('/cores/pipe_%h_%p', { host: 'vm', pid: 930, cwd: '/srv' })).toBe('/cores/pipe_vm_930');
    expect(coredumpPipePath(undefined, { host: 'vm', pid: 930, cwd: '/srv' })).toBe('/srv/corepipe.cuda.vm.930');
  });
});

describe('per-rank hang evidence', () => {
  it('attach mode (default): py-spy for every rank, then cuda-gdb attach; no coredump (it would end the process)', async () => {
    const log = path.join(dir, 'calls.log');
    const fakeEnv = env({ FAKE_CALL_LOG: log });
    const out = await collectRankEvidence({ incidentDir: dir, ranks: [{ pid: 929 }, { pid: 930 }], signal: never, pySpy: { env: fakeEnv }, cudaGdb: { env: fakeEnv } });
    expect(out.map((r) => [r.pid, r.coredump.kind, r.pySpy.kind, r.cudaGdb.kind])).toEqual([
      [929, 'skipped', 'ok', 'ok'],
      [930, 'skipped', 'ok', 'ok'],
    ]);
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    const firstAttach = calls.findIndex((c) => c.startsWith('cuda-gdb -p'));
    const lastPySpy = calls.map((c) => c.startsWith('py-spy')).lastIndexOf(true);
    expect(lastPySpy).toBeLessThan(firstAttach);

    const report = await routeFolder(dir);
    expect(report.problemClass).toBe('hang');
    expect(report.facts.stuckKernel).toBe('ncclDevKernel_AllGather_RING_LL');
  });

  it('coredump mode: every pipe is written at once and nothing is attached', async () => {
    const log = path.join(dir, 'calls.log');
    const pipes = [path.join(dir, 'corepipe.cuda.vm.929'), path.join(dir, 'corepipe.cuda.vm.930')];
    for (const p of pipes) await execa('mkfifo', [p]);
    const readers = pipes.map((p) => execa('sh', ['-c', 'cat "$0" > /dev/null; echo "coredump $0" >> "$1"', p, log]));
    const fakeEnv = env({ FAKE_CALL_LOG: log });
    const out = await collectRankEvidence({
      incidentDir: dir,
      ranks: [{ pid: 929, pipe: pipes[0] }, { pid: 930, pipe: pipes[1] }],
      mode: 'coredump',
      signal: never,
      coredumpWaitMs: 200,
      pySpy: { env: fakeEnv },
      cudaGdb: { env: fakeEnv },
    });
    await Promise.all(readers);
    expect(out.map((r) => [r.coredump.kind, r.cudaGdb.kind])).toEqual([
      ['ok', 'skipped'],
      ['ok', 'skipped'],
    ]);
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    expect(calls.filter((c) => c.startsWith('coredump'))).toHaveLength(2);
    expect(calls.some((c) => c.startsWith('cuda-gdb -p'))).toBe(false);
  });
});

describe('routing after collection', () => {
  it('the attach-mode folder routes as the real hang', async () => {
    const fakeEnv = env();
    await collectRankEvidence({ incidentDir: dir, ranks: [{ pid: 929 }, { pid: 930 }], signal: never, pySpy: { env: fakeEnv }, cudaGdb: { env: fakeEnv } });
    const report = await routeFolder(dir);
    expect(report.problemClass).toBe('hang');
    expect(report.facts.stuckKernel).toBe('ncclDevKernel_AllGather_RING_LL');
  });
});
