/**
 * A hang with no collective: one live kernel that never finishes, the host in a synchronize, the GPU at
 * 100 %. It must route `hang` with `facts.stuckKernel`, with or without a bundle, and live evidence must
 * outrank a refused capture ("server down"). Kernel names are generated, the transcript shape is the real
 * attach transcript's (test/fixtures/gpu-h200/rank1.cuda-gdb-attach.txt).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { routeFolder, routeSources } from './helpers.js';

const PID = 48213;
const KERNEL = 'spin_until_flag_kernel_x7';

function attachTranscript(kernels: string[], hostWait = 'cudaDeviceSynchronize'): string {
  return [
    '[New LWP 48214]',
    '[New LWP 48215]',
    '[Thread debugging using libthread_db enabled]',
    'Using host libthread_db library "/lib/x86_64-linux-gnu/libthread_db.so.1".',
    '',
    'Thread 1 "python3" stopped.',
    '[Switching focus to CUDA kernel 0, grid 5, block (0,0,0), thread (0,0,0), device 0, sm 0, warp 0, lane 0]',
    `0x00007f1312914b90 in ${kernels[0]}<<<(132,1,1),(256,1,1)>>> ()`,
    '  Kernel Parent Dev Grid Status                             SMs Mask GridDim   BlockDim Invocation                         ',
    ...kernels.map((k, i) => `${i === 0 ? '*' : ' '}      ${i}      -   0    ${5 + i} Active 0x00000000000000000000000000000000ff (132,1,1) (256,1,1) ${k}(flag=0x7f1200000000, n=1) `),
    '',
    'Thread 2 (Thread 0x7f12ecfeb6c0 (LWP 48214) "python3"):',
    '#0  0x00007f1671f2a2d2 in epoll_wait () from /lib/x86_64-linux-gnu/libc.so.6',
    '#1  0x00007f12ed51a796 in ?? () from /usr/local/nvidia/lib64/libcudadebugger.so.1',
    '',
    `Thread 1 (Thread 0x7f16721d4140 (LWP ${PID}) "python3"):`,
    '#0  0x00007f1645106e2b in ?? () from /usr/local/nvidia/lib64/libcuda.so.1',
    '#1  0x00007f1644f1a2c7 in ?? () from /usr/local/nvidia/lib64/libcuda.so.1',
    `#2  0x00007f1645105090 in ${hostWait} () from /usr/local/lib/python3.12/dist-packages/nvidia/cuda_runtime/lib/libcudart.so.13`,
    '#3  0x00007f16582c5e41 in THCPModule_cudaSynchronize(_object*, _object*) () from /usr/local/lib/python3.12/dist-packages/torch/lib/libtorch_python.so',
    '#4  0x0000000000581ddf in ?? ()',
    `[Inferior 1 (process ${PID}) detached]`,
    '',
  ].join('\n');
}

const SMI = ['index, utilization.gpu [%], memory.used [MiB]', '0, 100 %, 2210 MiB', 'pid, gpu_uuid, used_gpu_memory [MiB]', `${PID}, GPU-93983b08-2974-2f29-3477-1a25c5a08991, 2200 MiB`, ''].join('\n');

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A capture where every endpoint refused: what `triage run hang` writes when the front end is gone. */
async function refusedBundle(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const refused = (p: string) => JSON.stringify({ ok: false, status: null, path: p, error: 'connect ECONNREFUSED 127.0.0.1:30000', outcome: 'refused' });
  await writeFile(path.join(dir, 'health.txt.error.json'), refused('/health'));
  await writeFile(path.join(dir, 'health_generate.txt.error.json'), refused('/health_generate'));
  await writeFile(path.join(dir, 'metrics.txt.error.json'), refused('/metrics'));
  await writeFile(path.join(dir, 'model_info.json'), refused('/model_info'));
  await writeFile(path.join(dir, 'server_info.json'), refused('/server_info'));
  await writeFile(path.join(dir, 'metadata.json'), JSON.stringify({ role: 'incident', url: 'http://127.0.0.1:30000' }));
}

describe('single-GPU / non-collective hang', () => {
  it('live kernel + host in cudaDeviceSynchronize + 100 % GPU → hang, stuckKernel, debug-distributed-hang', async () => {
    const { report, placed } = await routeSources([{ name: 'attach', text: attachTranscript([KERNEL]) }, { name: 'smi', text: SMI }], 51);
    expect(report.problemClass).toBe('hang');
    expect(report.nextStep.skill).toBe('debug-distributed-hang');
    expect(report.facts).toMatchObject({ rule: 'stuck-kernel', stuckKernel: KERNEL, hostWait: 'cudaDeviceSynchronize', stuckPid: PID, gpuUtilisation: { 0: 100 }, collectiveInvolved: false });
    expect(report.evidence.map((e) => e.file)).toEqual(expect.arrayContaining([placed.attach, placed.smi]));
    expect(report.strongestSignal).toContain(`kernel ${KERNEL} never finishes`);
  });

  it('any wait: a stream synchronize works the same; several live kernels are all listed', async () => {
    const other = 'copy_rows_kernel_q2';
    const { report } = await routeSources([{ name: 'attach', text: attachTranscript([KERNEL, other], 'cudaStreamSynchronize') }], 52);
    expect(report.problemClass).toBe('hang');
    expect(report.facts).toMatchObject({ stuckKernel: KERNEL, liveKernels: [KERNEL, other], hostWait: 'cudaStreamSynchronize' });
  });

  it('live beats dead: with a refused capture in the folder it is still a hang, and the refusal is listed below it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'triage-live-'));
    dirs.push(dir);
    await refusedBundle(path.join(dir, 'baseline'));
    const down = await routeFolder(dir);
    expect(down.problemClass).toBe('unhealthy'); // the refused capture alone

    await mkdir(path.join(dir, 'stacks'));
    await mkdir(path.join(dir, 'gpu'));
    await writeFile(path.join(dir, 'stacks', 'cuda-gdb-attach.48213.txt'), attachTranscript([KERNEL]));
    await writeFile(path.join(dir, 'gpu', 'nvidia-smi.csv'), SMI);
    const live = await routeFolder(dir);
    expect(live.problemClass).toBe('hang');
    expect(live.facts).toMatchObject({ stuckKernel: KERNEL, processAlive: true });
    expect(live.checked.some((c) => c.startsWith('also seen (unhealthy'))).toBe(true);
  });

  it('live beats dead without a kernel: running pids from collection.json and a py-spy stack in synchronize outrank the refusal', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'triage-live-'));
    dirs.push(dir);
    await refusedBundle(path.join(dir, 'baseline'));
    await mkdir(path.join(dir, 'stacks'));
    const ok = (tool: string) => ({ kind: 'ok', tool, file: `/x/${tool}.txt`, exitCode: 0, durationMs: 900 });
    await writeFile(
      path.join(dir, 'stacks', 'collection.json'),
      JSON.stringify({ mode: 'attach', pids: [PID], gpu: {}, ranks: [{ pid: PID, coredump: { kind: 'skipped', reason: 'attach mode' }, pySpy: ok('py-spy'), cudaGdb: { kind: 'timeout', tool: 'cuda-gdb', file: '/x', durationMs: 120000 } }], cores: [] }),
    );
    await writeFile(
      path.join(dir, 'stacks', 'py-spy.48213.txt'),
      [`Process ${PID}: sglang::scheduler`, 'Python v3.12.3 (/usr/bin/python3.12)', '', `Thread ${PID} (active): "MainThread"`, '    synchronize (torch/cuda/__init__.py:985)', '    forward_decode (sglang/srt/model_executor/model_runner.py:1801)', '    run_batch (sglang/srt/managers/scheduler.py:1720)', '    event_loop_normal (sglang/srt/managers/scheduler.py:990)', ''].join('\n'),
    );
    const r = await routeFolder(dir);
    expect(r.problemClass).toBe('hang');
    expect(r.facts).toMatchObject({ rule: 'scheduler-stall', processAlive: true });
    expect(r.evidence.some((e) => e.fact.includes(`triage attached to running scheduler pid(s) ${PID}`))).toBe(true);
  });

  it('a kernel seen only once, with no wait and no utilisation, is a weak hint, not a verdict over other evidence', async () => {
    const text = attachTranscript([KERNEL]).replace(/#2 .*cudaDeviceSynchronize.*\n/, '').replace(/#3 .*THCPModule_cudaSynchronize.*\n/, '');
    const { report } = await routeSources([{ name: 'attach', text }, { handmade: 'cpu-exception-single-rank.log' }], 53);
    expect(report.problemClass).toBe('crash');
    expect(report.checked.some((c) => c.startsWith('also seen (hang') && c.includes(KERNEL))).toBe(true);
  });
});

describe('live beats dead with nothing but a busy GPU', () => {
  it('a refused capture next to the server process at 100 % GPU is a live process that stopped answering: hang, collect stacks', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'triage-live-'));
    dirs.push(dir);
    await refusedBundle(path.join(dir, 'baseline'));
    await mkdir(path.join(dir, 'gpu'));
    await writeFile(path.join(dir, 'gpu', 'nvidia-smi.csv'), SMI);
    const r = await routeFolder(dir);
    expect(r.problemClass).toBe('hang');
    expect(r.nextStep.skill).toBe('collect-more');
    expect(r.facts).toMatchObject({ rule: 'live-but-unresponsive', processAlive: true, gpuUtilisation: { 0: 100 } });
    expect(r.nextStep.commands.some((c) => c.includes('py-spy dump'))).toBe(true);
  });

  it('an idle GPU does not contradict the refusal', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'triage-live-'));
    dirs.push(dir);
    await refusedBundle(path.join(dir, 'baseline'));
    await mkdir(path.join(dir, 'gpu'));
    await writeFile(path.join(dir, 'gpu', 'nvidia-smi.csv'), SMI.replace('100 %', '0 %'));
    expect((await routeFolder(dir)).problemClass).toBe('unhealthy');
  });
});
