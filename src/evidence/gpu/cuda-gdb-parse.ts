import { splitLogLines } from './log-envelope.js';
import { blockingCallOf, paramNames, parseGdbFrame, parseThreadHeader, type GdbFrame, type GdbThread } from './gdb-backtrace.js';
import { bareKernelName, normalizeCudaException } from './kernel-names.js';

/** The CUDA focus cuda-gdb reports: `[Current focus set to CUDA kernel 0, grid 22, block (0,0,0), …]`. */
export interface CudaFocus {
  kernel?: number;
  grid?: number;
  cluster?: string;
  block?: string;
  thread?: string;
  device?: number;
  sm?: number;
  warp?: number;
  lane?: number;
}

/** One row of `info cuda kernels`. */
export interface CudaKernelRow {
  kernel: number;
  device?: number;
  grid?: number;
  status?: string;
  gridDim: string;
  blockDim: string;
  invocation: string;
  /** Bare kernel name. */
  name: string;
  focused: boolean;
}

/** One line of `x/Ni $pc`. `*>` marks the instruction that raised the exception, `=>` the current PC. */
export interface SassLine {
  address: string;
  symbol?: string;
  offset?: number;
  instruction: string;
  faulting: boolean;
  current: boolean;
}

export interface CudaGdbException {
  /** cuda-gdb's display name, e.g. "Warp Out-of-range Address". */
  name: string;
  pc?: string;
  /** Demangled function at the PC, as printed. */
  demangled?: string;
  /** `file.cu:29` */
  location?: string;
}

export interface CudaGdbTranscript {
  /** How cuda-gdb was pointed at the program. */
  mode: 'coredump' | 'attach' | 'live' | 'unknown';
  coredumpPath?: string;
  /** The inferior's pid (attach). */
  pid?: number;
  exception?: CudaGdbException;
  /** The kernel at the fault (or the focused kernel without an exception), bare + spellings seen. */
  kernel?: { bare: string; demangled?: string; mangled?: string; launch?: { grid: string; block: string }; params?: string[] };
  focus?: CudaFocus;
  kernels: CudaKernelRow[];
  /** cuda-gdb printed "No CUDA kernels." (a live process with nothing running on the GPU). */
  noKernels: boolean;
  sass: SassLine[];
  /** Host threads (attach: `thread apply all bt`), plus the CUDA `where` backtrace as thread 0 when present. */
  threads: GdbThread[];
  /** Frames of `where` on the focused CUDA thread (device frames). */
  deviceFrames: GdbFrame[];
  /** The main host thread's blocking call (e.g. cuEventSynchronize), when it is in one. */
  mainThreadWait?: { thread: number; call: string; chain: string[] };
  /** cuda-gdb errors and warnings worth repeating (unreadable core, permission, late attach). */
  problems: string[];
  /** The transcript ends without gdb's normal end (detach / last command output): the tool aborted. */
  incomplete: boolean;
}

const FOCUS_RE = /\[(?:Current focus set to|Switching focus to) CUDA (.+)\]/;
const KERNEL_ROW_RE = /^(\*)?\s*(\d+)\s+(.*?)\s*\((\d+,\d+,\d+)\)\s+\((\d+,\d+,\d+)\)\s+(\S.*?)\s*$/;
const SASS_RE = /^\s*(\*>|=>)?\s*(0x[0-9a-fA-F]+)\s*(?:<(.+?)(?:\+(\d+))?>)?:\s*(.+?)\s*$/;

/** Pure: reads a cuda-gdb transcript (coredump, attach or live run). Never throws on odd input. */
export function parseCudaGdb(text: string): CudaGdbTranscript {
  const out: CudaGdbTranscript = { mode: 'unknown', kernels: [], noKernels: false, sass: [], threads: [], deviceFrames: [], problems: [], incomplete: false };
  const lines = splitLogLines(text);
  let inKernelTable = false;
  let thread: GdbThread | null = null;
  let sawEnd = false;
  let stopFrame: GdbFrame | null = null;

  for (const raw of lines) {
    const line = raw.replace(/\t/g, ' ');
    const t = line.trim();
    if (!t) {
      inKernelTable = false;
      continue;
    }

    const core = /^Opening GPU coredump:\s*(\S+)/.exec(t) ?? /target cudacore\s+(\S+)/.exec(t);
    if (core?.[1]) {
      out.mode = 'coredump';
      out.coredumpPath = core[1].replace(/["']/g, '');
      continue;
    }
    const attach = /^Attaching to (?:program: .*, )?process (\d+)/.exec(t) ?? /^\[Inferior \d+ \(process (\d+)\) detached\]/.exec(t);
    if (attach?.[1]) {
      if (out.mode === 'unknown') out.mode = 'attach';
      out.pid ??= Number(attach[1]);
      if (t.includes('detached')) sawEnd = true;
      continue;
    }
    if (/^\[New LWP \d+\]|^\[New Thread 0x/.test(t) && out.mode === 'unknown') out.mode = 'attach';
    if (/^Starting program:/.test(t)) out.mode = 'live';

    const exc = /^CUDA Exception:\s*(.+)$/.exec(t);
    if (exc?.[1]) {
      out.exception = { ...out.exception, name: normalizeCudaException(exc[1]) };
      continue;
    }
    const signal = /received signal (CUDA_EXCEPTION_\d+),\s*([^.]+)/.exec(t);
    if (signal?.[1]) {
      out.exception ??= { name: normalizeCudaException(signal[2] ?? signal[1]) };
      continue;
    }
    const pc = /^The exception was triggered at PC (0x[0-9a-fA-F]+)\s*(.*)$/.exec(t);
    if (pc?.[1]) {
      out.exception ??= { name: 'unknown' };
      out.exception.pc = pc[1];
      const rest = pc[2]?.trim() ?? '';
      const loc = /\(([^()\s]+:\d+)\)\s*$/.exec(rest);
      if (loc?.[1]) out.exception.location = loc[1];
      const demangled = (loc ? rest.slice(0, loc.index) : rest).trim();
      if (demangled) out.exception.demangled = demangled;
      continue;
    }
    const focus = FOCUS_RE.exec(t);
    if (focus?.[1]) {
      out.focus = parseFocus(focus[1]);
      continue;
    }
    if (/^No CUDA kernels\.?$/.test(t)) {
      out.noKernels = true;
      continue;
    }
    if (/^Kernel\s+Parent\s+Dev|^Kernel\s+Dev\s+Grid|\bInvocation\s*$/.test(t) && /Kernel/.test(t)) {
      inKernelTable = true;
      continue;
    }
    if (inKernelTable) {
      const row = parseKernelRow(line);
      if (row) {
        out.kernels.push(row);
        continue;
      }
      inKernelTable = false;
    }
    const sass = SASS_RE.exec(line);
    if (sass?.[2] && sass[5] && (sass[1] || sass[3]) && !/^\s*#/.test(line)) {
      const entry: SassLine = { address: sass[2], instruction: sass[5], faulting: sass[1] === '*>', current: sass[1] === '=>' };
      if (sass[3]) entry.symbol = sass[3];
      if (sass[4]) entry.offset = Number(sass[4]);
      out.sass.push(entry);
      continue;
    }
    const header = parseThreadHeader(t);
    if (header) {
      thread = { ...header, frames: [] };
      out.threads.push(thread);
      continue;
    }
    if (t.startsWith('#')) {
      const frame = parseGdbFrame(t);
      if (!frame) continue;
      if (thread) {
        thread.frames.push(frame);
      } else if (!out.deviceFrames.some((f) => f.index === frame.index && f.function === frame.function)) {
        out.deviceFrames.push(frame); // `where` output before any host thread listing
      }
      continue;
    }
    const stop = /^(0x[0-9a-fA-F]+) in (.+)$/.exec(t);
    if (stop) {
      stopFrame = parseGdbFrame(`#0  ${t}`);
      continue;
    }
    if (/^(warning|Error|error):|Permission denied|ptrace: Operation not permitted|not supported with late attach|Failed to read|is not a CUDA core|No such file or directory\.$/i.test(t) && !/^warning: \d+\s/.test(t)) {
      if (out.problems.length < 20) out.problems.push(t);
    }
  }

  finishKernel(out, stopFrame);
  const main = out.threads.find((th) => th.id === 1) ?? out.threads.find((th) => out.pid !== undefined && th.lwp === out.pid);
  if (main) {
    const wait = blockingCallOf(main);
    if (wait) {
      const at = main.frames.indexOf(wait);
      const chain = main.frames.slice(at).filter((f) => f.function !== '??').slice(0, 4).map((f) => f.bare ?? f.function);
      out.mainThreadWait = { thread: main.id, call: wait.bare ?? wait.function, chain };
    }
  }
  // An attach session ends with the detach line; a coredump session with the last command's output.
  out.incomplete = out.mode === 'attach' ? !sawEnd : out.mode === 'coredump' ? out.exception === undefined && out.kernels.length === 0 : false;
  return out;
}

function parseFocus(s: string): CudaFocus {
  const focus: CudaFocus = {};
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(s);
    return m?.[1] ? Number(m[1]) : undefined;
  };
  const tuple = (re: RegExp): string | undefined => re.exec(s)?.[1];
  const assign = <K extends keyof CudaFocus>(k: K, v: CudaFocus[K] | undefined): void => {
    if (v !== undefined) focus[k] = v;
  };
  assign('kernel', num(/kernel (\d+)/));
  assign('grid', num(/grid (\d+)/));
  assign('cluster', tuple(/cluster (\(\d+,\d+,\d+\))/));
  assign('block', tuple(/block (\(\d+,\d+,\d+\))/));
  assign('thread', tuple(/thread (\(\d+,\d+,\d+\))/));
  assign('device', num(/device (\d+)/));
  assign('sm', num(/\bsm (\d+)/));
  assign('warp', num(/warp (\d+)/));
  assign('lane', num(/lane (\d+)/));
  return focus;
}

function parseKernelRow(line: string): CudaKernelRow | null {
  const m = KERNEL_ROW_RE.exec(line);
  if (!m?.[2] || !m[4] || !m[5] || !m[6]) return null;
  const name = bareKernelName(m[6]);
  if (!name) return null;
  // middle columns: Parent Dev Grid Status SMs-Mask (older versions: Dev Grid Status ...)
  const middle = (m[3] ?? '').split(/\s+/).filter(Boolean);
  const row: CudaKernelRow = { kernel: Number(m[2]), gridDim: `(${m[4]})`, blockDim: `(${m[5]})`, invocation: m[6], name, focused: m[1] === '*' };
  const numeric = middle.filter((x) => /^\d+$/.test(x));
  const status = middle.find((x) => /^[A-Z][a-z]+$/.test(x));
  if (status) row.status = status;
  if (numeric.length >= 2) {
    row.device = Number(numeric[0]);
    row.grid = Number(numeric[1]);
  }
  return row;
}

function finishKernel(out: CudaGdbTranscript, stopFrame: GdbFrame | null): void {
  const mangled = out.sass.find((s) => s.symbol?.startsWith('_Z'))?.symbol;
  // Only frames with launch geometry are kernels; a host stop location (clock_nanosleep) is not.
  const deviceTop = [out.deviceFrames[0], stopFrame ?? undefined].find((f) => f?.launch !== undefined);
  const focusedRow = out.kernels.find((k) => k.focused) ?? (out.kernels.length === 1 ? out.kernels[0] : undefined);
  const candidates = [out.exception?.demangled, deviceTop?.function, focusedRow?.invocation, mangled];
  for (const c of candidates) {
    if (!c || c === '??') continue;
    const bare = bareKernelName(c);
    if (!bare) continue;
    out.kernel = { bare };
    if (out.exception?.demangled) out.kernel.demangled = out.exception.demangled;
    if (mangled && bareKernelName(mangled) === bare) out.kernel.mangled = mangled;
    const launch = deviceTop?.launch ?? (focusedRow ? { grid: focusedRow.gridDim, block: focusedRow.blockDim } : undefined);
    if (launch) out.kernel.launch = launch;
    const rowArgs = focusedRow ? /\(([^()]*(?:\([^()]*\)[^()]*)*)\)\s*$/.exec(focusedRow.invocation)?.[1] : undefined;
    const params = deviceTop?.argNames ?? (rowArgs ? paramNames(rowArgs) : []);
    if (params.length) out.kernel.params = params;
    return;
  }
}

/** The faulting SASS instruction and up to `around` neighbours each side. */
export function sassAroundFault(t: CudaGdbTranscript, around = 2): SassLine[] {
  const at = t.sass.findIndex((s) => s.faulting);
  if (at < 0) return [];
  return t.sass.slice(Math.max(0, at - around), at + around + 1);
}

export function describeCudaGdb(t: CudaGdbTranscript): string {
  const where = t.mode === 'coredump' ? 'on a CUDA coredump' : t.mode === 'attach' ? `attached to pid ${t.pid ?? '?'}` : 'transcript';
  const parts = [`cuda-gdb ${where}`];
  if (t.exception) parts.push(`${t.exception.name}${t.kernel ? ` in ${t.kernel.bare}` : ''}`);
  else if (t.kernels.length) parts.push(`${t.kernels.length} live kernel(s): ${[...new Set(t.kernels.map((k) => k.name))].join(', ')}`);
  else if (t.noKernels) parts.push('no CUDA kernels running');
  if (t.mainThreadWait) parts.push(`main thread in ${t.mainThreadWait.call}`);
  if (t.incomplete) parts.push('transcript incomplete');
  return parts.join(': ');
}
