import type { Evidence } from '../../../evidence/types.js';
import { sassAroundFault } from '../../../evidence/gpu/cuda-gdb-parse.js';
import type { SanitizerError } from '../../../evidence/gpu/compute-sanitizer.js';
import { bareKernelName } from '../../../evidence/gpu/kernel-names.js';
import type { EvidenceRef } from '../../../contracts/report.js';
import { describeBatch, lastPrefill, type BatchRef } from './common.js';

/**
 * Everything the folder says about a GPU kernel fault, strongest source first: cuda-gdb on a coredump
 * (or a live run), the driver's coredump progress lines, compute-sanitizer memcheck, device-side
 * assertions, CUDA error lines in logs. Pure.
 */
export interface GpuFault {
  /** Bare name of the faulting kernel, when any source names it. */
  kernel?: string;
  /** The `__device__` function the fault is in, when the kernel called one (bare). */
  deviceFunction?: string;
  /** The signal that stopped the GPU when no CUDA exception was reported (a trap). */
  signal?: string;
  /** cuda-gdb's exception name, or the closest description another source gives. */
  exception?: string;
  /** How the kernel was located: debugger/driver/sanitizer/assert; "log" means only a CUDA error line. */
  located: 'debugger' | 'driver' | 'sanitizer' | 'assert' | 'log';
  pc?: string;
  mangled?: string;
  /** Parameter names of the faulting kernel, when the debugger printed them. */
  params?: string[];
  launch?: { grid: string; block: string };
  focus?: string;
  faultingSass?: string;
  coredumpPath?: string;
  crashDump?: { path: string; file: string };
  trigger?: BatchRef;
  /** Sanitizer report of the faulting access, when present. */
  sanitizer?: { error: SanitizerError; file: string; tool: string };
  /** Every kernel-like name seen anywhere, with its file: candidates for the producer one launch upstream. */
  mentions: Array<{ name: string; file: string }>;
  /** Address-class fault (out-of-range, illegal address, out of bounds). */
  addressFault: boolean;
  assertFault: boolean;
  evidence: EvidenceRef[];
}

export function findGpuFault(evidence: Evidence): GpuFault | null {
  const refs: EvidenceRef[] = [];
  const fault: Partial<GpuFault> & { mentions: GpuFault['mentions'] } = { mentions: [] };
  let firstFaultLine: { file: string; line: number } | undefined;

  for (const item of evidence.of('cuda-gdb')) {
    const t = item.data;
    for (const k of t.kernels) fault.mentions.push({ name: k.name, file: item.file });
    for (const th of t.threads) for (const f of th.frames) if (f.bare) fault.mentions.push({ name: f.bare, file: item.file });
    if (!t.exception || fault.located === 'debugger') continue;
    fault.located = 'debugger';
    fault.exception = t.exception.name;
    if (t.kernel) fault.kernel = t.kernel.bare;
    if (t.deviceFunction) fault.deviceFunction = t.deviceFunction;
    if (t.exception.signal) fault.signal = t.exception.signal;
    if (t.exception.pc) fault.pc = t.exception.pc;
    if (t.kernel?.mangled) fault.mangled = t.kernel.mangled;
    if (t.kernel?.launch) fault.launch = t.kernel.launch;
    if (t.kernel?.params) fault.params = t.kernel.params;
    if (t.coredumpPath) fault.coredumpPath = t.coredumpPath;
    if (t.focus) fault.focus = Object.entries(t.focus).map(([k, v]) => `${k} ${v}`).join(', ');
    refs.push({
      file: item.file,
      fact: `cuda-gdb${t.mode === 'coredump' ? ' on the coredump' : ''}: ${t.exception.signal ? `${t.signal?.terminated ? 'program terminated with signal' : 'GPU stopped with signal'} ${t.exception.name}, no CUDA Exception line` : `CUDA Exception: ${t.exception.name}`}${t.exception.pc ? ` at PC ${t.exception.pc}` : ''}${t.kernel ? ` in ${t.kernel.bare}` : ''}${t.deviceFunction ? ` (in device function ${t.deviceFunction})` : ''}${t.kernel?.mangled ? ` (${t.kernel.mangled})` : ''}${fault.launch ? `, launch ${fault.launch.grid}x${fault.launch.block}` : ''}${fault.focus ? `; focus ${fault.focus}` : ''}`,
    });
    const sass = sassAroundFault(t);
    const bad = sass.find((s) => s.faulting);
    if (bad) {
      fault.faultingSass = bad.instruction;
      refs.push({ file: item.file, fact: `faulting SASS (*>): ${bad.instruction} at ${bad.address}${bad.offset !== undefined ? ` (+${bad.offset})` : ''}; around it: ${sass.map((s) => `${s.faulting ? '*> ' : ''}${s.instruction}`).join(' | ')}` });
    }
  }

  for (const item of evidence.of('cuda-coredump-progress')) {
    const e = item.data.exceptions[0];
    if (item.data.coredumpFile) fault.coredumpPath ??= item.data.coredumpFile;
    if (!e) continue;
    const kernel = e.frames[0]?.bare ?? undefined;
    for (const f of e.frames) if (f.bare) fault.mentions.push({ name: f.bare, file: item.file });
    firstFaultLine ??= { file: item.file, line: e.line };
    if (!fault.located || fault.located === 'log') {
      fault.located = 'driver';
      fault.exception = e.name;
      if (kernel) fault.kernel = kernel;
      if (e.pc) fault.pc = e.pc;
      if (e.frames[0]?.symbol.startsWith('_Z')) fault.mangled = e.frames[0].symbol;
    }
    refs.push({
      file: item.file,
      fact: `CUDA driver coredump progress (line ${e.line}): ${e.raw} on device ${e.device ?? '?'} SM ${e.sm ?? '?'} warp ${e.warp ?? '?'}${e.pc ? ` PC ${e.pc}` : ''}${kernel ? ` in ${kernel}` : ''}${item.data.coredumpFile ? `; coredump written to ${item.data.coredumpFile}${item.data.completed ? '' : ' (incomplete)'}` : ''}`,
    });
  }

  for (const item of evidence.of('compute-sanitizer')) {
    for (const err of item.data.errors) for (const f of err.hostFrames) fault.mentions.push(...hostFrameNames(f).map((name) => ({ name, file: item.file })));
    // An invalid barrier aborts the kernel: in a program that then failed (`Program hit cudaError…`, or
    // `Target application returned an error`), the kernel synccheck names is the faulting kernel.
    const crashed = item.data.targetFailed || item.data.errors.some((e) => e.category === 'api');
    const access = item.data.errors.find((e) => e.category === 'memory-access' || e.category === 'hardware') ?? (crashed ? item.data.errors.find((e) => e.kernel && e.category === 'sync') : undefined);
    if (!access) continue;
    fault.sanitizer ??= { error: access, file: item.file, tool: item.data.tool };
    if (!fault.located || fault.located === 'log') {
      fault.located = 'sanitizer';
      if (access.kernel) fault.kernel = access.kernel;
      if (access.deviceFunction) fault.deviceFunction = access.deviceFunction;
      fault.exception = `${access.kind}${access.addressNote ? ` (${access.address ?? 'address'} ${access.addressNote})` : ''} [compute-sanitizer]`;
    }
    const callers = access.hostFrames.map(pythonCaller).filter((x): x is string => x !== null);
    refs.push({
      file: item.file,
      fact: `compute-sanitizer ${item.data.tool} (line ${access.line}): ${access.kind}${access.kernel ? ` in ${access.kernel}` : ''}${access.deviceFunction ? ` (device function ${access.deviceFunction})` : ''}${access.offset ? `+${access.offset}` : ''}${access.thread ? ` by thread ${access.thread} in block ${access.block}` : ''}${access.address ? `: ${access.address} ${access.addressNote ?? ''}` : ''}${callers.length ? `; launched from ${callers.slice(0, 4).join(' ← ')}` : ''}`,
    });
  }

  const logs = evidence.of('server-log');
  for (const item of logs) {
    for (const m of item.data.kernelMentions) fault.mentions.push({ name: m.name, file: item.file });
    const assert = item.data.deviceAsserts[0];
    if (assert) {
      firstFaultLine ??= { file: item.file, line: assert.line };
      if (!fault.located || fault.located === 'log') {
        fault.located = 'assert';
        fault.exception = 'Warp Assert';
        const k = assert.function ? bareKernelName(assert.function) : null;
        if (k && k !== 'operator()') fault.kernel = k;
      }
      refs.push({ file: item.file, fact: `device-side assertion (line ${assert.line}): ${assert.file ?? ''} ${assert.function ?? ''} block ${assert.block} thread ${assert.thread}: Assertion \`${assert.condition}\` failed` });
    }
    const cuda = item.data.cudaErrors[0];
    if (cuda) {
      firstFaultLine ??= { file: item.file, line: cuda.line };
      if (!fault.located) {
        fault.located = 'log';
        fault.exception = `CUDA error: ${cuda.message}`;
      }
      refs.push({ file: item.file, fact: `CUDA error line ${cuda.line}${cuda.rank ? ` [${cuda.rank.label}]` : ''}: ${cuda.text}` });
    }
    const dump = item.data.crashDumps[0];
    if (dump) {
      fault.crashDump ??= { path: dump.path, file: item.file };
      refs.push({ file: item.file, fact: `crash dump written (line ${dump.line}): ${dump.finished} finished and ${dump.unfinished} unfinished request(s) in ${dump.path}` });
    }
  }
  for (const item of evidence.of('python-stacks')) {
    for (const p of item.data.processes) for (const t of p.threads) for (const f of t.frames) if (f.native) { const name = bareKernelName(f.function); if (name) fault.mentions.push({ name, file: item.file }); }
  }
  for (const item of evidence.of('cuda-coredump')) {
    fault.coredumpPath ??= item.data.path;
    refs.push({ file: item.file, fact: `raw CUDA coredump (ELF, EM_CUDA, ET_CORE), ${item.data.size} bytes` });
  }

  if (!fault.located) return null;
  const trigger = lastPrefill(logs, firstFaultLine);
  if (trigger) {
    fault.trigger = trigger;
    refs.push({ file: trigger.file, fact: `last batch before the fault: ${describeBatch(trigger.batch)}` });
  }
  const exceptionText = `${fault.exception ?? ''} ${fault.sanitizer?.error.addressNote ?? ''}`;
  return {
    ...fault,
    located: fault.located,
    mentions: fault.mentions,
    addressFault: /address|out-of-range|out of bounds|illegal memory access|Invalid __/i.test(exceptionText) && !/misaligned/i.test(exceptionText),
    assertFault: /assert/i.test(exceptionText),
    evidence: refs,
  };
}

/** `moe_align_block_size in crash_repro.py:75` → "moe_align_block_size (crash_repro.py:75)"; native frames → null. */
function pythonCaller(frame: string): string | null {
  const m = /^(\w+) in (\S+\.py):(\d+)$/.exec(frame.trim());
  return m ? `${m[1]} (${m[2]}:${m[3]})` : null;
}

function hostFrameNames(frame: string): string[] {
  const name = frame.replace(/\s*\[0x[0-9a-f]+\].*$/i, '').replace(/ in \S+$/, '').trim();
  const bare = name ? bareKernelName(name) : null;
  return bare ? [bare] : [];
}
