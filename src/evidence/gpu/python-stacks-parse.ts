import { rankLabelOfLine, rankLabelOfTitle, splitLogLines, startsLogRecord, type RankLabel } from './log-envelope.js';

/**
 * Python stacks from three producers:
 *  - py-spy dump (with or without --native): `Process 930: cmd`, `Thread 930 (active): "MainThread"`,
 *    frames `    function (file.py:line)` or native `    cuEventSynchronize (libcuda.so.1)`;
 *  - faulthandler: `Thread 0x00007f16721d4140 (most recent call first):` / `Current thread 0x…`,
 *    frames `  File "…", line N in function`;
 *  - SGLang's watchdog / pre-crash dump inside a server log: `Pyspy dump for PID <pid> (<command>):`
 *    followed by py-spy output.
 * Frames are innermost first, as all three print them.
 */
export interface PyFrame {
  function: string;
  file?: string;
  line?: number;
  /** A C/C++ frame (py-spy --native): no .py file. */
  native: boolean;
}

export interface PyThreadStack {
  /** OS thread id (py-spy) or pthread id in hex (faulthandler, py-spy without tid). */
  id: string;
  name?: string;
  /** As the tool reported it; faulthandler does not say, so "unknown". */
  status: 'active' | 'idle' | 'unknown';
  gil?: boolean;
  /** faulthandler's "Current thread": the one that ran the dump (the main thread for signal handlers). */
  current?: boolean;
  frames: PyFrame[];
}

export interface PyProcessStacks {
  source: 'py-spy' | 'faulthandler' | 'watchdog';
  pid?: number;
  command?: string;
  /** Rank prefix (watchdog log line) or process title (py-spy command line). */
  rank?: RankLabel;
  /** py-spy --native frames present. */
  native: boolean;
  threads: PyThreadStack[];
  /** 1-based line where this process's stacks begin. */
  line: number;
}

export interface PythonStacks {
  processes: PyProcessStacks[];
  /** py-spy / watchdog failures ("Pyspy failed", "Permission Denied", "All pyspy dump attempts failed"). */
  problems: string[];
}

const PYSPY_PROCESS_RE = /^Process (\d+): (.*)$/;
const PYSPY_THREAD_RE = /^Thread (\d+|0x[0-9A-Fa-f]+) \(([a-z+]+)\)(?:: "(.*)")?\s*$/;
const FAULTHANDLER_THREAD_RE = /^(Current thread|Thread) (0x[0-9A-Fa-f]+) \(most recent call first\):\s*$/;
const FAULTHANDLER_FRAME_RE = /^\s+File "(.+)", line (\d+) in (.+)$/;
const PYSPY_FRAME_RE = /^(?: {4}|\t)(\S.*?) \(([^()]+)\)\s*$/;
const WATCHDOG_RE = /Pyspy dump for PID (\d+)(?: \(([^)]*)\))?:?/;

/** Pure. */
export function parsePythonStacks(text: string): PythonStacks {
  const out: PythonStacks = { processes: [], problems: [] };
  let proc: PyProcessStacks | null = null;
  let thread: PyThreadStack | null = null;
  /** Inside a watchdog block, py-spy output continues until the next log record. */
  let inWatchdog = false;
  const lines = splitLogLines(text);

  const newProcess = (source: PyProcessStacks['source'], line: number): PyProcessStacks => {
    const p: PyProcessStacks = { source, native: false, threads: [], line };
    out.processes.push(p);
    thread = null;
    return p;
  };

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const t = raw.trim();
    const wd = WATCHDOG_RE.exec(raw);
    if (wd?.[1]) {
      proc = newProcess('watchdog', i + 1);
      proc.pid = Number(wd[1]);
      if (wd[2]) proc.command = wd[2];
      const label = rankLabelOfLine(raw);
      if (label) proc.rank = label;
      inWatchdog = true;
      continue;
    }
    if (inWatchdog && startsLogRecord(raw)) {
      inWatchdog = false;
      proc = null;
      thread = null;
    }
    if (/Pyspy failed|All pyspy dump attempts failed|Permission Denied|Failed to (?:find python version|get process)|Error: (?:Failed|No such process)/.test(t)) {
      if (out.problems.length < 20) out.problems.push(t);
      continue;
    }
    const pyspyProc = PYSPY_PROCESS_RE.exec(t);
    if (pyspyProc?.[1]) {
      const pid = Number(pyspyProc[1]);
      // The watchdog block's own py-spy header annotates it instead of starting another process.
      const reuse: PyProcessStacks | null = proc !== null && proc.source === 'watchdog' && proc.pid === pid && proc.threads.length === 0 ? proc : null;
      const target: PyProcessStacks = reuse ?? newProcess('py-spy', i + 1);
      target.pid = pid;
      target.command = pyspyProc[2] ?? '';
      const title = rankLabelOfTitle(target.command);
      if (title && !target.rank) target.rank = title;
      proc = target;
      continue;
    }
    if (/^Python v\d/.test(t)) continue;
    const st = PYSPY_THREAD_RE.exec(t);
    if (st?.[1] && st[2]) {
      if (!proc || proc.source === 'faulthandler') proc = newProcess('py-spy', i + 1);
      const status = st[2].includes('active') ? 'active' : st[2] === 'idle' ? 'idle' : 'unknown';
      thread = { id: st[1], status, frames: [] };
      if (st[2].includes('gil')) thread.gil = true;
      if (st[3] !== undefined) thread.name = st[3];
      proc.threads.push(thread);
      continue;
    }
    const fh = FAULTHANDLER_THREAD_RE.exec(t) ?? (/^Stack \(most recent call first\):/.test(t) ? ['', 'Current thread', 'main'] : null);
    if (fh) {
      const id = (fh[2] ?? 'main').toLowerCase();
      const repeats = proc?.source === 'faulthandler' && proc.threads.some((th) => th.id === id);
      if (!proc || proc.source !== 'faulthandler' || repeats) proc = newProcess('faulthandler', i + 1);
      thread = { id, status: 'unknown', frames: [] };
      if (fh[1] === 'Current thread') thread.current = true;
      proc.threads.push(thread);
      continue;
    }
    if (!thread) continue;
    const ff = FAULTHANDLER_FRAME_RE.exec(raw);
    if (ff?.[1] && ff[2] && ff[3]) {
      thread.frames.push({ function: ff[3].trim(), file: ff[1], line: Number(ff[2]), native: false });
      continue;
    }
    const pf = PYSPY_FRAME_RE.exec(raw);
    if (pf?.[1] && pf[2] && !/^\s{8}/.test(raw)) {
      const frame = pyspyFrame(pf[1], pf[2]);
      thread.frames.push(frame);
      if (frame.native && proc) proc.native = true;
      continue;
    }
    if (/^\s{8}|^\s+(Arguments|Locals):/.test(raw)) continue; // py-spy --locals
    if (!t) continue;
    if (/^\s*<no Python frame>/.test(raw)) continue;
    // Anything else ends the current thread's frames (program output, log lines).
    thread = null;
  }
  out.processes = out.processes.filter((p) => p.threads.length > 0);
  return out;
}

function pyspyFrame(fn: string, loc: string): PyFrame {
  const withLine = /^(.+):(\d+)$/.exec(loc);
  const file = withLine?.[1] ?? loc;
  const frame: PyFrame = { function: fn.trim(), native: !/\.pyx?$|<[a-z]+>$/.test(file) };
  frame.file = file;
  if (withLine?.[2]) frame.line = Number(withLine[2]);
  return frame;
}

/** The thread that runs the scheduler loop: py-spy's MainThread, faulthandler's current thread, else the first. */
export function mainThreadOf(p: PyProcessStacks): PyThreadStack | undefined {
  return (
    p.threads.find((t) => t.name === 'MainThread') ??
    p.threads.find((t) => p.pid !== undefined && t.id === String(p.pid)) ??
    p.threads.find((t) => t.current) ??
    p.threads[0]
  );
}
