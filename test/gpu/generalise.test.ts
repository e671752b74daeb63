/**
 * Recognisers read structure, not names: kernels, device functions, exception kinds and signals here
 * are made up from a seeded PRNG, so no list of known names could pass. The transcript shapes follow
 * cuda-gdb's real output (test/fixtures/gpu-h200/*.txt): the coredump header, the focus line, `where`
 * frames with launch geometry on the kernel frame only, the `info cuda kernels` table.
 */
import { describe, expect, it } from 'vitest';
import { parseComputeSanitizer } from '../../src/evidence/gpu/compute-sanitizer.js';
import { parseCudaGdb } from '../../src/evidence/gpu/cuda-gdb-parse.js';
import { prng, routeSources } from './helpers.js';

const rand = prng(1234);
const word = (): string => {
  const syll = ['ka', 'zu', 'mor', 'ti', 'flex', 'qua', 'dre', 'no', 'vy', 'lix'];
  return Array.from({ length: 2 + Math.floor(rand() * 3) }, () => syll[Math.floor(rand() * syll.length)]).join('');
};
const kernelName = (): string => `${word()}_${word()}_kernel`;
const deviceFn = (): string => `${word()}_${word()}`;

function coredumpHeader(): string[] {
  return ['Opening GPU coredump: /data/crash/node-3/core.cuda.1795827351.4242', '[Current focus set to CUDA kernel 0, grid 17, block (3,0,0), thread (64,0,0), device 0, sm 12, warp 2, lane 0]', ''];
}

function kernelTable(rows: Array<{ name: string; focused?: boolean; args?: string }>): string[] {
  return [
    '  Kernel Parent Dev Grid Status                             SMs Mask GridDim   BlockDim Invocation                         ',
    ...rows.map((r, i) => `${r.focused ? '*' : ' '}      ${i}      -   0   ${17 + i} Active 0x0010000000000000000000000000000000 (8,1,1) (256,1,1) ${r.name}<float>(${r.args ?? ''}) `),
  ];
}

describe('cuda-gdb: any exception kind, any signal, any kernel', () => {
  it('a trap: "Program terminated with signal SIGTRAP" and no CUDA Exception line still names the kernel and routes crash', async () => {
    const k = kernelName();
    const text = [...coredumpHeader(), 'Program terminated with signal SIGTRAP, Trace/breakpoint trap.', `#0  0x00007f22cf7a1ae0 in ${k}<<<(8,1,1),(256,1,1)>>> () at /src/trap.cu:41`, ...kernelTable([{ name: k, focused: true }]), ''].join('\n');
    const t = parseCudaGdb(text);
    expect(t.exception).toEqual({ name: 'SIGTRAP (Trace/breakpoint trap)', signal: 'SIGTRAP' });
    expect(t.kernel?.bare).toBe(k);
    const { report } = await routeSources([{ name: 'trap', text }], 41);
    expect(report.problemClass).toBe('crash');
    expect(report.nextStep.skill).toBe('debug-cuda-crash');
    expect(report.facts).toMatchObject({ faultingKernel: k, cudaException: 'SIGTRAP (Trace/breakpoint trap)', signal: 'SIGTRAP', faultLocatedBy: 'debugger' });
    expect(report.evidence[0]?.fact).toContain('program terminated with signal SIGTRAP');
  });

  it('any signal name, live or on a core; a host signal with no device frame is not a GPU fault', () => {
    const k = kernelName();
    const live = parseCudaGdb(['Starting program: /usr/bin/python3 repro.py', `Thread 1 "python3" received signal SIGFPE, Arithmetic exception.`, '[Switching focus to CUDA kernel 0, grid 2, block (0,0,0), thread (0,0,0), device 0, sm 0, warp 0, lane 0]', `0x00007fffd5a7d6c0 in ${k}<<<(1,1,1),(32,1,1)>>> () at x.cu:3`, ''].join('\n'));
    expect(live.exception?.name).toBe('SIGFPE (Arithmetic exception)');
    expect(live.kernel?.bare).toBe(k);
    const host = parseCudaGdb(['Starting program: /usr/bin/python3 repro.py', 'Thread 1 "python3" received signal SIGSEGV, Segmentation fault.', '0x00007ffff7e4d2a0 in memcpy () from /lib/x86_64-linux-gnu/libc.so.6', ''].join('\n'));
    expect(host.signal).toMatchObject({ name: 'SIGSEGV', terminated: false });
    expect(host.exception).toBeUndefined();
  });

  it('every CUDA Exception kind by structure: an unseen display name, a numbered signal with its text', () => {
    const name = `Warp ${word()} ${word()} Fault`;
    const a = parseCudaGdb([...coredumpHeader(), `CUDA Exception: ${name}`, ''].join('\n'));
    expect(a.exception?.name).toBe(name);
    const b = parseCudaGdb(['Starting program: /x', `Thread 1 "x" received signal CUDA_EXCEPTION_42, Lane ${name}.`, ''].join('\n'));
    expect(b.exception?.name).toBe(`Lane ${name}`);
    const c = parseCudaGdb(['Starting program: /x', 'Program received signal CUDA_EXCEPTION_6, Warp Misaligned Address.', ''].join('\n'));
    expect(c.exception?.name).toBe('Warp Misaligned Address');
  });

  it('an exception in a device function names the kernel (launch frame) and the device function (innermost frame)', async () => {
    const k = kernelName();
    const f = deviceFn();
    const text = [
      ...coredumpHeader(),
      'CUDA Exception: Warp Out-of-range Address',
      `The exception was triggered at PC 0x7f22cf7a1b30  void ${f}<float>(float*, int)  (oob.cu:7)`,
      `#0  0x00007f22cf7a1b30 in ${f}<float> (p=0x7f1200000000, i=4096) at oob.cu:7`,
      `#1  0x00007f22cf7a2000 in ${k}<float><<<(8,1,1),(256,1,1)>>> (out=0x7f1200000000, n=4096) at oob.cu:19`,
      ...kernelTable([{ name: kernelName() }, { name: k, focused: true, args: 'out=0x7f1200000000, n=4096' }]),
      '',
    ].join('\n');
    const t = parseCudaGdb(text);
    expect(t.kernel).toMatchObject({ bare: k, launch: { grid: '(8,1,1)', block: '(256,1,1)' }, params: ['out', 'n'] });
    expect(t.deviceFunction).toBe(f);
    expect(t.kernels).toHaveLength(2);
    const { report } = await routeSources([{ name: 'oob', text }], 42);
    expect(report.facts).toMatchObject({ faultingKernel: k, deviceFunction: f, cudaException: 'Warp Out-of-range Address' });
    expect(report.strongestSignal).toContain(`in ${k} (device function ${f})`);
  });

  it('an inlined device function (frame without an address) and a table-only kernel', () => {
    const k = kernelName();
    const f = deviceFn();
    const t = parseCudaGdb([...coredumpHeader(), 'CUDA Exception: Warp Illegal Address', `#0  ${f} (row=3) at m.cu:5`, ...kernelTable([{ name: k, focused: true }]), ''].join('\n'));
    expect(t.kernel?.bare).toBe(k);
    expect(t.deviceFunction).toBeUndefined(); // no kernel frame: the innermost frame cannot be told from the kernel
    const t2 = parseCudaGdb([...coredumpHeader(), 'CUDA Exception: Warp Illegal Address', `#0  ${f} (row=3) at m.cu:5`, `#1  ${k}<<<(1,1,1),(32,1,1)>>> () at m.cu:9`, ''].join('\n'));
    expect([t2.kernel?.bare, t2.deviceFunction]).toEqual([k, f]);
  });

  it('several kernels in `info cuda kernels`: the focused row is the kernel, all are listed', () => {
    const names = [kernelName(), kernelName(), kernelName()];
    const t = parseCudaGdb([...coredumpHeader(), 'CUDA Exception: Warp Illegal Instruction', ...kernelTable(names.map((name, i) => ({ name, focused: i === 2 }))), ''].join('\n'));
    expect(t.kernels.map((r) => r.name)).toEqual(names);
    expect(t.kernel?.bare).toBe(names[2]);
  });

  it('a transcript cut mid-output: never a wrong name from the half line, and marked incomplete', () => {
    const k = kernelName();
    const full = [...coredumpHeader(), 'CUDA Exception: Warp Out-of-range Address', `The exception was triggered at PC 0x7f22cf7a1b30  void ${k}<int>(int const*, int*, int, int)  (x.cu:29)`, `#0  0x00007f22cf7a1ae0 in ${k}<int><<<(1,1,1),(1024,1,1)>>> () at x.cu:28`, ...kernelTable([{ name: k, focused: true }]), '=> 0x7f22cf7a1ae0 <_Z3fooIiEvPKT_Piii+480>:\tLDG.E R2,desc[UR6][R2.64]', ''].join('\n');
    for (let cut = 1; cut < full.length; cut += 7) {
      const t = parseCudaGdb(full.slice(0, cut));
      const names = [t.kernel?.bare, t.deviceFunction, ...t.kernels.map((r) => r.name)].filter(Boolean);
      // A name is either the whole kernel name or absent: never a prefix of it.
      for (const n of names) expect([k, 'foo']).toContain(n);
      if (!full.slice(0, cut).endsWith('\n') && t.cutMidLine) expect(t.incomplete).toBe(true);
    }
    const cutInPc = parseCudaGdb(full.slice(0, full.indexOf(`${k}<int>(int`) + 5));
    expect(cutInPc.cutMidLine).toBe(true);
    expect(cutInPc.exception?.name).toBe('Warp Out-of-range Address');
    expect(cutInPc.kernel).toBeUndefined();
  });
});

describe('compute-sanitizer: every tool names the kernel', () => {
  it('racecheck in hazard mode (`Potential WAW hazard`, the accesses on thread lines) names the racing kernel', async () => {
    const k = kernelName();
    const text = [
      '========= COMPUTE-SANITIZER',
      '========= Error: Potential WAW hazard detected at __shared__ 0x0 in block (0,0,0) :',
      `=========     Write Thread (31,0,0) at 0x00000170 in /src/race.cu:10:${k}(int*)`,
      `=========     Write Thread (0,0,0) at 0x00000170 in /src/race.cu:10:${k}(int*)`,
      '=========     Current Value : 0, Incoming Value : 31',
      '=========',
      '========= RACECHECK SUMMARY: 1 hazard displayed (1 error, 0 warnings)',
      '',
    ].join('\n');
    const r = parseComputeSanitizer(text);
    expect(r.errors[0]).toMatchObject({ category: 'race', kernel: k, location: '/src/race.cu:10', race: { hazard: 'WAW' } });
    const { report } = await routeSources([{ name: 'race', text }], 43);
    expect(report.problemClass).toBe('wrong-output');
    expect(report.facts).toMatchObject({ rule: 'kernel-race', racyKernel: k, sanitizerKernel: k, hazardType: 'WAW', sanitizerTool: 'racecheck' });
  });

  it('memcheck with a device call stack: the kernel is the outermost Device Frame, the device function the `at` line', async () => {
    const k = kernelName();
    const f = deviceFn();
    const text = [
      '========= COMPUTE-SANITIZER',
      '========= Invalid __global__ write of size 4 bytes',
      `=========     at ${f}(float *, int)+0x30 in /src/oob.cu:7`,
      '=========     by thread (255,0,0) in block (7,0,0)',
      '=========     Address 0x7f1200004000 is out of bounds',
      `=========     Device Frame: ${k}(float *, int)+0x90 in /src/oob.cu:19`,
      '=========     Saved host backtrace up to driver entry point at kernel launch time',
      '=========         Host Frame: cudaLaunchKernel [0x4f2b1] in libcudart.so.13',
      '=========',
      '========= ERROR SUMMARY: 1 error',
      '',
    ].join('\n');
    expect(parseComputeSanitizer(text).errors[0]).toMatchObject({ kernel: k, deviceFunction: f });
    const { report } = await routeSources([{ name: 'oob-memcheck', text }], 44);
    expect(report.problemClass).toBe('crash');
    expect(report.facts).toMatchObject({ faultingKernel: k, deviceFunction: f, faultLocatedBy: 'sanitizer' });
  });

  it('the legacy Device Frame form `file:line:fn(args) (fn(args) : 0x90)`', () => {
    const k = kernelName();
    const r = parseComputeSanitizer(['========= Invalid __global__ read of size 4', '=========     at 0x00000070 in /tmp/k.cu:5:helper(int*, int)', `=========     Device Frame:/tmp/k.cu:12:${k}(int*, int) (${k}(int*, int) : 0x90)`, '========= ERROR SUMMARY: 1 error', ''].join('\n'));
    expect(r.errors[0]).toMatchObject({ kernel: k, deviceFunction: 'helper' });
  });

  it('initcheck and synccheck route wrong-output and name the kernel', async () => {
    const a = kernelName();
    const init = ['========= COMPUTE-SANITIZER', '========= Uninitialized __global__ memory read of size 4 bytes', `=========     at ${a}(const float *, float *, int)+0x1c0 in /src/init.cu:11`, '=========     by thread (0,0,0) in block (0,0,0)', '=========', '========= ERROR SUMMARY: 1 error', ''].join('\n');
    const ri = (await routeSources([{ name: 'init', text: init }], 45)).report;
    expect(ri.problemClass).toBe('wrong-output');
    expect(ri.facts).toMatchObject({ rule: 'kernel-uninitialized-read', uninitializedReadKernel: a, sanitizerKernel: a });
    const b = kernelName();
    const sync = ['========= COMPUTE-SANITIZER', '========= Barrier error detected. Divergent thread(s) in warp', `=========     at ${b}(float *)+0x90 in /src/div.cu:7`, '=========     by thread (37,0,0) in block (0,0,0)', '=========', '========= ERROR SUMMARY: 1 error', ''].join('\n');
    const rs = (await routeSources([{ name: 'sync', text: sync }], 46)).report;
    expect(rs.problemClass).toBe('wrong-output');
    expect(rs.facts).toMatchObject({ rule: 'kernel-sync-error', syncErrorKernel: b, sanitizerKernel: b });
  });
});
