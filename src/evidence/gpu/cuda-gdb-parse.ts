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
  /** cuda-gdb's display name, e.g. "Warp Out-of-range Address", or the signal for a trap: "SIGTRAP (Trace/breakpoint trap)". */
  name: string;
  /** Set when no `CUDA Exception:` line named it and the signal that stopped the GPU program did (`__trap()`, a breakpoint). */
  signal?: string;
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
  /**
   * The device function the PC is in, when it is not the kernel itself (a `__device__` function called
   * from the kernel: `#0 … in store_row (…)`, `#1 … in my_kernel<<<…>>> (…)`). Bare name.
   */
  deviceFunction?: string;
  /** `Program terminated with signal SIGTRAP, Trace/breakpoint trap.` / `received signal SIGSEGV, …`. */
  signal?: { name: string; description: string; terminated: boolean };
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
  /** The last line was cut mid-way (no newline and not a complete record) and was not read. */
  cutMidLine: boolean;
}

const FOCUS_RE = /\[(?:Current focus set to|Switching focus to) CUDA ([^\]]+)\]/;
const EXCEPTION_RE = /CUDA Exception:\s*(\S.*)$/;
/** `Program terminated with signal SIGTRAP, Trace/breakpoint trap.`, `Thread 1 "python" received signal CUDA_EXCEPTION_14, Warp Illegal Address.` */
const SIGNAL_RE = /(received|terminated with) signal ((?:SIG|CUDA_EXCEPTION_)[A-Z0-9_]{1,40}),?\s*(.*)$/;
const KERNEL_ROW_RE = /^(\*)?\s*(\d+)\s+(.*?)\s*\((\d+,\d+,\d+)\)\s+\((\d+,\d+,\d+)\)\s+(\S.*?)\s*$/;
const SASS_RE = /^\s*(\*>|=>)?\s*(0x[0-9a-fA-F]+)\s*(?:<(.+?)(?:\+(\d+))?>)?:\s*(.+?)\s*$/;

/** Pure: reads a cuda-gdb transcript (coredump, attach or live run). Never throws on odd input. */
export function parseCudaGdb(text: string): CudaGdbTranscript {
  const out: CudaGdbTranscript = { mode: 'unknown', kernels: [], noKernels: false, sass: [], threads: [], deviceFrames: [], problems: [], incomplete: false, cutMidLine: false };
  const lines = splitLogLines(text);
  // A tool killed mid-write leaves a half line ("… in moe_align_bl"): a name read from it would be wrong.
  if (lines.length && !/\n$/.test(text) && !looksComplete(lines[lines.length - 1]!.trim())) {
    lines.pop();
    out.cutMidLine = true;
  }
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

    const exc = EXCEPTION_RE.exec(t);
    if (exc?.[1]) {
      out.exception = { ...out.exception, name: normalizeCudaException(exc[1]) };
      delete out.exception.signal;
      continue;
    }
    const signal = SIGNAL_RE.exec(t);
    if (signal?.[2]) {
      const name = signal[2];
      const description = (signal[3] ?? '').replace(/\.$/, '').trim();
      if (name.startsWith('CUDA_EXCEPTION_')) out.exception ??= { name: normalizeCudaException(description || name) };
      else out.signal ??= { name, description, terminated: signal[1] !== 'received' };
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
  // A trap (`__trap()`, `asm("trap;")`) or a breakpoint stops the GPU with a signal and no `CUDA Exception:` line.
  // On a CUDA coredump every signal is the GPU's; in a live or attached session only when it stopped in device code.
  const onDevice = out.mode === 'coredump' || out.focus !== undefined || out.deviceFrames.some((f) => f.launch) || stopFrame?.launch !== undefined;
  if (!out.exception && out.signal && onDevice) {
    out.exception = { name: `${out.signal.name}${out.signal.description ? ` (${out.signal.description})` : ''}`, signal: out.signal.name };
  }
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
  out.incomplete = out.cutMidLine || (out.mode === 'attach' ? !sawEnd : out.mode === 'coredump' ? out.exception === undefined && out.kernels.length === 0 : false);
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
  const mangled = out.sass.find((x) => x.symbol?.startsWith('_Z'))?.symbol;
  const frames = out.deviceFrames.length ? out.deviceFrames : stopFrame ? [stopFrame] : [];
  // Only frames with launch geometry are kernels; a host stop location (clock_nanosleep) is not. The
  // frames above the kernel frame are the device functions it called.
  const kernelFrame = frames.find((f) => f.launch !== undefined) ?? (stopFrame?.launch ? stopFrame : undefined);
  const innermost = kernelFrame ? frames[0] : undefined;
  const focusedRow = out.kernels.find((k) => k.focused) ?? (out.kernels.length === 1 ? out.kernels[0] : undefined);
  // The PC's function (exception line, SASS symbol) may be a device function, so it comes after the kernel frame and the kernels table.
  const candidates = [kernelFrame?.function, focusedRow?.invocation, out.exception?.demangled, mangled];
  for (const c of candidates) {
    if (!c || c === '??') continue;
    const bare = bareKernelName(c);
    if (!bare) continue;
    out.kernel = { bare };
    if (out.exception?.demangled && bareKernelName(out.exception.demangled) === bare) out.kernel.demangled = out.exception.demangled;
    if (mangled && bareKernelName(mangled) === bare) out.kernel.mangled = mangled;
    const launch = kernelFrame?.launch ?? (focusedRow ? { grid: focusedRow.gridDim, block: focusedRow.blockDim } : undefined);
    if (launch) out.kernel.launch = launch;
    const rowArgs = focusedRow ? lastParenGroup(focusedRow.invocation) : undefined;
    const params = kernelFrame?.argNames ?? (rowArgs ? paramNames(rowArgs) : []);
    if (params.length) out.kernel.params = params;
    const inner = [innermost !== kernelFrame ? innermost?.bare : undefined, out.exception?.demangled ? bareKernelName(out.exception.demangled) : undefined, mangled ? bareKernelName(mangled) : undefined];
    const fn = inner.find((n): n is string => Boolean(n) && n !== bare);
    if (fn) out.deviceFunction = fn;
    return;
  }
}

/** The text inside the last top-level `(…)` of a kernel invocation, scanned by hand (no backtracking). */
function lastParenGroup(s: string): string | undefined {
  const t = s.trimEnd();
  if (!t.endsWith(')')) return undefined;
  let depth = 0;
  for (let i = t.length - 1; i >= 0; i--) {
    if (t[i] === ')') depth++;
    else if (t[i] === '(' && --depth === 0) return t.slice(i + 1, -1);
  }
  return undefined;
}

/** A last line with no newline is read only when it is a whole record (a frame with its location, a closed bracket, a full sentence). */
function looksComplete(t: string): boolean {
  if (!t) return true;
  if (/^#\d+ /.test(t)) return / at \S+:\d+$| from \S+$|\)$/.test(t);
  if (/^The exception was triggered at PC /.test(t)) return /\)$/.test(t);
  return /[.)\]:]$/.test(t) || /^\[Inferior \d+ \(process \d+\) detached\]$/.test(t);
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
