import { describe, expect, it } from 'vitest';
import { parseComputeSanitizer } from '../../src/evidence/gpu/compute-sanitizer.js';
import { parseCoredumpProgress } from '../../src/evidence/gpu/coredump-progress.js';
import { isCudaCoredumpHead } from '../../src/evidence/gpu/cuda-coredump.js';
import { handmade, real } from './helpers.js';

describe('compute-sanitizer memcheck (real H200 recording)', () => {
  it('reads the shared-memory atomic fault, thread, block, address, host backtrace and summary', async () => {
    const r = parseComputeSanitizer(await real('crash.compute-sanitizer.txt'));
    expect(r.tool).toBe('memcheck');
    expect(r.summary).toEqual({ errors: 3, text: 'ERROR SUMMARY: 3 errors' });
    expect(r.incomplete).toBe(false);
    expect(r.errors).toHaveLength(3);
    const [atomic, sync, last] = r.errors;
    expect(atomic).toMatchObject({
      kind: 'Invalid __shared__ atomic of size 4 bytes',
      category: 'memory-access',
      memorySpace: '__shared__',
      accessSize: 4,
      kernel: 'moe_align_block_size_kernel',
      offset: '0x230',
      location: '210073f50050f74b1216533133fb618b0f058173.cubin.cu:29',
      thread: '(136,0,0)',
      block: '(0,0,0)',
      address: '0x4604',
      addressNote: 'is out of bounds',
    });
    expect(atomic?.hostFrames).toContain('moe_align_block_size in crash_repro.py:75');
    expect(atomic?.hostFrames).toHaveLength(21);
    expect(sync).toMatchObject({ category: 'api', api: { error: 'cudaErrorLaunchFailure: unspecified launch failure', call: 'cudaDeviceSynchronize' } });
    expect(last?.api?.call).toBe('cudaGetLastError');
  });

  it('a run that aborts before the summary is marked incomplete', async () => {
    const text = await real('crash.compute-sanitizer.txt');
    const r = parseComputeSanitizer(text.slice(0, text.indexOf('Program hit')));
    expect(r.incomplete).toBe(true);
    expect(r.errors[0]?.kernel).toBe('moe_align_block_size_kernel');
  });
});

describe('compute-sanitizer (hand-made)', () => {
  it('racecheck: both accesses, hazards and the racecheck summary', async () => {
    const r = parseComputeSanitizer(await handmade('racecheck.txt'));
    expect(r.tool).toBe('racecheck');
    expect(r.summary?.errors).toBe(2);
    expect(r.errors).toHaveLength(2);
    expect(r.errors[0]).toMatchObject({ category: 'race', kernel: 'block_reduce_sum', location: 'reduce.cu:21' });
    expect(r.errors[0]?.race).toEqual({
      first: 'Write at void block_reduce_sum<float>(const float *, float *, int)+0x1a0 in reduce.cu:21',
      second: 'Read at void block_reduce_sum<float>(const float *, float *, int)+0x2c0 in reduce.cu:25 [1024 hazards]',
      hazards: 1024,
    });
  });

  it('memcheck on global memory, with program output interleaved', async () => {
    const r = parseComputeSanitizer(await handmade('memcheck-global-read.txt'));
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({
      kind: 'Invalid __global__ read of size 2 bytes',
      memorySpace: '__global__',
      accessSize: 2,
      kernel: 'BatchPrefillWithPagedKVCacheKernel',
      thread: '(31,2,0)',
      block: '(17,0,3)',
      address: '0x7f0a3e000040',
      addressNote: 'is out of bounds',
    });
  });

  it('reads the legacy cuda-memcheck "at 0x… in file:line:kernel" form', () => {
    const r = parseComputeSanitizer('========= CUDA-MEMCHECK\n========= Invalid __global__ write of size 4\n=========     at 0x00000070 in /tmp/k.cu:12:scatter_kernel(int*, int const*)\n=========     by thread (3,0,0) in block (0,0,0)\n=========     Address 0x7f00001000 is out of bounds\n========= ERROR SUMMARY: 1 error\n');
    expect(r.errors[0]).toMatchObject({ kernel: 'scatter_kernel', location: '/tmp/k.cu:12', offset: '0x00000070' });
  });
});

describe('CUDA driver coredump progress (real H200 stderr)', () => {
  it('reads exception, device/SM/warp, PC, the mangled frame and where the coredump went', async () => {
    const p = parseCoredumpProgress(await real('crash.stderr.txt'));
    expect(p.completed).toBe(true);
    expect(p.coredumpFile).toBe('/tmp/art/cores/cuda_coredump_vm.677.1795827351');
    expect(p.exceptions).toEqual([
      {
        name: 'Warp Out-of-range Address',
        raw: 'CUDBG_EXCEPTION_WARP_OUT_OF_RANGE_ADDRESS',
        device: 0,
        sm: 124,
        warp: 5,
        pc: '0x7f22cf7a1b30',
        frames: [{ pc: '0x7f22cf7a1ae0', symbol: '_Z27moe_align_block_size_kernelIiEvPKT_Piii', bare: 'moe_align_block_size_kernel' }],
        line: expect.any(Number),
      },
    ]);
  });

  it('a dump cut before "All done" is not completed', async () => {
    const text = await real('crash.stderr.txt');
    const p = parseCoredumpProgress(text.slice(0, text.indexOf('Writing ELF file')));
    expect(p.completed).toBe(false);
    expect(p.exceptions[0]?.name).toBe('Warp Out-of-range Address');
  });
});

describe('raw CUDA coredump by content', () => {
  const header = (osabi: number, type: number, machine: number): string => {
    const b = Buffer.alloc(64);
    b.write('\u007fELF', 0, 'latin1');
    b[4] = 2;
    b[5] = 1;
    b[7] = osabi;
    b.writeUInt16LE(type, 16);
    b.writeUInt16LE(machine, 18);
    return b.toString('latin1');
  };
  it('accepts ELF + CUDA OS/ABI + ET_CORE + EM_CUDA (the header of the real H200 coredump), rejects others', () => {
    expect(isCudaCoredumpHead(header(0x33, 4, 190))).toBe(true);
    expect(isCudaCoredumpHead(header(0x33, 2, 190))).toBe(false); // a cubin
    expect(isCudaCoredumpHead(header(0, 4, 62))).toBe(false); // a host core file
    expect(isCudaCoredumpHead('\u00fd7zXZ\u0000')).toBe(false); // the xz tarball
  });
});
