import { describe, expect, it } from 'vitest';
import { parseCudaGdb, sassAroundFault } from '../../src/evidence/gpu/cuda-gdb-parse.js';
import { parseGdbFrame } from '../../src/evidence/gpu/gdb-backtrace.js';
import { handmade, real } from './helpers.js';

describe('cuda-gdb on a coredump (real H200 recording)', () => {
  it('reads exception, PC, kernel spellings, geometry, kernel table and the faulting SASS', async () => {
    const t = parseCudaGdb(await real('crash.cuda-gdb.txt'));
    expect(t.mode).toBe('coredump');
    expect(t.coredumpPath).toBe('/tmp/art/cores/cuda_coredump_vm.677.1795827351');
    expect(t.exception).toMatchObject({ name: 'Warp Out-of-range Address', pc: '0x7f22cf7a1b30', location: '210073f50050f74b1216533133fb618b0f058173.cubin.cu:29' });
    expect(t.exception?.demangled).toBe('void moe_align_block_size_kernel<int>(int const*, int*, int, int)');
    expect(t.kernel).toEqual({
      bare: 'moe_align_block_size_kernel',
      demangled: 'void moe_align_block_size_kernel<int>(int const*, int*, int, int)',
      mangled: '_Z27moe_align_block_size_kernelIiEvPKT_Piii',
      launch: { grid: '(1,1,1)', block: '(1024,1,1)' },
    });
    expect(t.focus).toEqual({ kernel: 0, grid: 22, block: '(0,0,0)', thread: '(128,0,0)', device: 0, sm: 124, warp: 5, lane: 0 });
    expect(t.kernels).toEqual([
      expect.objectContaining({ kernel: 0, device: 0, grid: 22, status: 'Active', gridDim: '(1,1,1)', blockDim: '(1024,1,1)', name: 'moe_align_block_size_kernel', focused: true }),
    ]);
    const around = sassAroundFault(t);
    expect(around.map((s) => s.instruction)).toEqual(['VIADD R0,R2,0x1', 'IMAD R0,R0,0x4,R11', 'ATOMS.POPC.INC.32 RZ[R0+URZ]', '@!P1 BRA 0x7f22cf7a1ad0', 'BSYNC B0']);
    expect(around[2]).toMatchObject({ faulting: true, address: '0x7f22cf7a1b30', offset: 560 });
    expect(t.sass.find((s) => s.current)?.instruction).toBe('LDG.E R2,desc[UR6][R2.64]');
    // the `where` frame appears twice in the transcript: kept once
    expect(t.deviceFrames).toHaveLength(1);
    expect(t.incomplete).toBe(false);
  });
});

describe('cuda-gdb attached to live ranks (real H200 recordings)', () => {
  it('rank 1: live NCCL kernel on device 1, main thread in cuEventSynchronize', async () => {
    const t = parseCudaGdb(await real('rank1.cuda-gdb-attach.txt'));
    expect(t.mode).toBe('attach');
    expect(t.pid).toBe(930);
    expect(t.exception).toBeUndefined();
    expect(t.kernels).toEqual([expect.objectContaining({ name: 'ncclDevKernel_AllGather_RING_LL', device: 1, gridDim: '(4,1,1)', blockDim: '(512,1,1)' })]);
    expect(t.kernel?.bare).toBe('ncclDevKernel_AllGather_RING_LL');
    expect(t.focus?.cluster).toBe('(0,0,0)');
    expect(t.mainThreadWait).toEqual({ thread: 1, call: 'cuEventSynchronize', chain: ['cuEventSynchronize', 'cudaEventSynchronize', 'THCPEvent_synchronize', 'PyObject_Vectorcall'] });
    const main = t.threads.find((th) => th.id === 1)!;
    expect(main).toMatchObject({ lwp: 930, pthread: '0x7f16721d4140', name: 'python3' });
    expect(main.frames).toHaveLength(23);
    expect(t.threads.find((th) => th.name === 'pt_nccl_watchdg')?.frames[2]?.bare).toBe('runLoop');
    expect(t.incomplete).toBe(false);
  });

  it('rank 0: no CUDA kernels, idle in clock_nanosleep, and no kernel invented from the host stop location', async () => {
    const t = parseCudaGdb(await real('rank0.cuda-gdb-attach.txt'));
    expect(t).toMatchObject({ mode: 'attach', pid: 929, noKernels: true, kernels: [] });
    expect(t.kernel).toBeUndefined();
    expect(t.mainThreadWait).toBeUndefined();
    expect(t.threads).toHaveLength(10);
  });

  it('marks an attach transcript cut before the detach as incomplete', async () => {
    const text = await real('rank1.cuda-gdb-attach.txt');
    const t = parseCudaGdb(text.slice(0, text.indexOf('Thread 36 (')));
    expect(t.incomplete).toBe(true);
    expect(t.kernels[0]?.name).toBe('ncclDevKernel_AllGather_RING_LL');
  });
});

describe('cuda-gdb, other exception kinds (hand-made)', () => {
  it('live run: CUDA_EXCEPTION_14 Warp Illegal Address in an anonymous-namespace template kernel', async () => {
    const t = parseCudaGdb(await handmade('cuda-gdb-live-illegal-address.txt'));
    expect(t.mode).toBe('live');
    expect(t.exception).toMatchObject({ name: 'Warp Illegal Address', pc: '0x7ffe8b2c41f0', location: 'IndexKernel.cu:301' });
    expect(t.kernel?.bare).toBe('indexSelectLargeIndex');
    expect(t.kernel?.mangled).toMatch(/^_ZN2at6native12_GLOBAL__N_121indexSelectLargeIndex/);
    expect(t.kernel?.launch).toEqual({ grid: '(528,1,1)', block: '(128,1,1)' });
    expect(t.focus).toMatchObject({ device: 0, sm: 12, warp: 3, block: '(44,0,0)' });
    expect(t.kernels[0]?.name).toBe('indexSelectLargeIndex');
    expect(sassAroundFault(t)[0]?.instruction).toBe('LDG.E R4, desc[UR4][R4.64]');
  });

  it('coredump: Warp Assert', async () => {
    const t = parseCudaGdb(await handmade('cuda-gdb-core-warp-assert.txt'));
    expect(t.exception?.name).toBe('Warp Assert');
    expect(t.kernel?.bare).toBe('topk_sample_kernel');
    expect(t.focus?.device).toBe(3);
  });

  it('coredump: Warp Misaligned Address where the PC line prints only the mangled name', async () => {
    const t = parseCudaGdb(await handmade('cuda-gdb-core-misaligned.txt'));
    expect(t.exception?.name).toBe('Warp Misaligned Address');
    expect(t.kernel).toMatchObject({ bare: 'fp8_quant_pack_kernel', mangled: '_Z21fp8_quant_pack_kernelPK6__halfPhPfi' });
    expect(sassAroundFault(t)[0]?.instruction).toBe('LDG.E.128 R8, desc[UR4][R2.64]');
  });

  it('reads "received signal" when the CUDA Exception banner is missing', () => {
    const t = parseCudaGdb('Thread 1 "python3" received signal CUDA_EXCEPTION_10, Device Illegal Address.\n');
    expect(t.exception?.name).toBe('Device Illegal Address');
  });
});

describe('gdb frames', () => {
  it.each([
    ['#8  0x00007f16451050b0 in cuEventSynchronize () from /usr/local/nvidia/lib64/libcuda.so.1', { function: 'cuEventSynchronize', bare: 'cuEventSynchronize', library: '/usr/local/nvidia/lib64/libcuda.so.1' }],
    ['#1  0x00007f8d7a69587a in ncclProxyServiceUDS (_args=0x143ac660) at proxy.cc:1817', { function: 'ncclProxyServiceUDS', source: 'proxy.cc:1817' }],
    ['#11 0x00007f15e9845192 in THCPEvent_synchronize(_object*, _object*) () from /x/libtorch_python.so', { bare: 'THCPEvent_synchronize' }],
    ['#1  0x000000000064dcaa in ?? ()', { function: '??' }],
    ['#2  0x00007f8d499ff6ae in c10d::ProcessGroupNCCL::HeartbeatMonitor::runLoop() () from /x/libtorch_cuda.so', { bare: 'runLoop' }],
  ])('%s', (line, expected) => {
    expect(parseGdbFrame(line)).toMatchObject(expected);
  });
});
