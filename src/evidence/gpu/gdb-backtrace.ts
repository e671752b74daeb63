import { bareKernelName } from './kernel-names.js';

/** One gdb backtrace frame: `#8  0x00007f16451050b0 in cuEventSynchronize () from /usr/.../libcuda.so.1`. */
export interface GdbFrame {
  index: number;
  address?: string;
  /** The function as printed, arguments removed; `??` when gdb had no symbol. */
  function: string;
  /** Bare name (no namespace, templates, params); absent for `??`. */
  bare?: string;
  /** `from LIB` */
  library?: string;
  /** `at FILE:LINE` */
  source?: string;
  /** CUDA kernel launch geometry when the frame is a kernel: `<<<(grid),(block)>>>`. */
  launch?: { grid: string; block: string };
  /** Argument names gdb printed (`kv_indices=0x…`): with -lineinfo/-G builds, kernels show them. */
  argNames?: string[];
}

/** A host thread from `thread apply all bt`. */
export interface GdbThread {
  /** gdb's thread number. */
  id: number;
  lwp?: number;
  /** pthread_t as gdb prints it (`0x7f16721d4140`); equals Python faulthandler's thread id. */
  pthread?: string;
  name?: string;
  frames: GdbFrame[];
}

const FRAME_RE = /^#(\d+)\s+(?:(0x[0-9a-fA-F]+) in )?(.+)$/;
const THREAD_RE = /^Thread (\d+) \((?:Thread (0x[0-9a-fA-F]+) )?\(?LWP (\d+)\)?\)?(?: "([^"]*)")?\)?:?\s*$/;
const THREAD_LOOSE_RE = /^Thread (\d+) \(Thread (0x[0-9a-fA-F]+) \(LWP (\d+)\)(?: "([^"]*)")?\):/;

export function parseGdbFrame(line: string): GdbFrame | null {
  const m = FRAME_RE.exec(line.trim());
  if (!m?.[1] || !m[3]) return null;
  let rest = m[3];
  const frame: GdbFrame = { index: Number(m[1]), function: '??' };
  if (m[2]) frame.address = m[2];
  const from = / from (\S+)\s*$/.exec(rest);
  if (from?.[1]) {
    frame.library = from[1];
    rest = rest.slice(0, from.index);
  }
  const at = / at (\S+:\d+)\s*$/.exec(rest);
  if (at?.[1]) {
    frame.source = at[1];
    rest = rest.slice(0, at.index);
  }
  // Launch tuples are short: bounded repeats keep a long run of `<<<(` linear.
  const launch = /<<<\(([^)]{0,64})\),\(([^)]{0,64})\)>>>/.exec(rest);
  if (launch?.[1] && launch[2]) frame.launch = { grid: `(${launch[1]})`, block: `(${launch[2]})` };
  const { name, args } = splitTrailingArgs(rest.trim());
  frame.function = name || '??';
  const argNames = args ? paramNames(args) : [];
  if (argNames.length) frame.argNames = argNames;
  if (frame.function !== '??') {
    const bare = bareKernelName(frame.function);
    if (bare) frame.bare = bare;
  }
  return frame;
}

/** `ncclProxyServiceUDS (_args=0x143ac660)` → name + `_args=0x143ac660`; `foo() ()` → `foo()` + ''. */
function splitTrailingArgs(s: string): { name: string; args?: string } {
  if (!s.endsWith(')')) return { name: s };
  let depth = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s[i];
    if (c === ')') depth++;
    else if (c === '(') {
      depth--;
      if (depth === 0) {
        // Only a space-separated group is gdb's argument list; `f(int)` is part of a C++ name.
        return s[i - 1] === ' ' ? { name: s.slice(0, i).trim(), args: s.slice(i + 1, -1) } : { name: s };
      }
    }
  }
  return { name: s };
}

/** `dst=..., kv_indices=0x7f…, n=4` → [dst, kv_indices, n]; also reads `info cuda kernels` invocations. */
export function paramNames(args: string): string[] {
  const names: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= args.length; i++) {
    const c = args[i];
    if (c === '(' || c === '{' || c === '<' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === '>' || c === ']') depth--;
    else if ((c === ',' || c === undefined) && depth <= 0) {
      const m = /^\s*([A-Za-z_]\w*)\s*=/.exec(args.slice(start, i));
      if (m?.[1]) names.push(m[1]);
      start = i + 1;
    }
  }
  return names;
}

export function parseThreadHeader(line: string): Omit<GdbThread, 'frames'> | null {
  const m = THREAD_LOOSE_RE.exec(line) ?? THREAD_RE.exec(line);
  if (!m?.[1]) return null;
  const thread: Omit<GdbThread, 'frames'> = { id: Number(m[1]) };
  if (m[2]) thread.pthread = m[2].toLowerCase();
  if (m[3]) thread.lwp = Number(m[3]);
  if (m[4] !== undefined) thread.name = m[4];
  return thread;
}

/** Host calls that block a thread on the GPU or on a collective: what a hang stack stops in. */
const BLOCKING_CALL = /^(cuEventSynchronize|cudaEventSynchronize|cuStreamSynchronize|cudaStreamSynchronize|cuCtxSynchronize|cudaDeviceSynchronize|THCPModule_cudaSynchronize|device_synchronize|stream_synchronize|\w*local_scalar_dense\w*|cuMemcpyDtoH\w*|cudaMemcpy\w*|cuStreamQuery|cudaStreamQuery|cuStreamWaitEvent|cudaStreamWaitEvent|nccl(?!Proxy)\w+|THCPEvent_synchronize|THCPStream_synchronize|c10d::\w+::wait\w*)$/;

/** The first frame (innermost first) that is a known GPU/collective wait, e.g. `cuEventSynchronize`. */
export function blockingCallOf(thread: GdbThread): GdbFrame | null {
  for (const f of thread.frames) {
    if (f.bare && BLOCKING_CALL.test(f.bare)) return f;
    if (BLOCKING_CALL.test(f.function.replace(/\(.*$/, ''))) return f;
  }
  return null;
}

/** The chain of named frames, innermost first, ?? frames dropped: `cuEventSynchronize ← cudaEventSynchronize ← …`. */
export function namedFrames(thread: GdbThread, limit = 6): string[] {
  return thread.frames
    .filter((f) => f.function !== '??')
    .slice(0, limit)
    .map((f) => f.bare ?? f.function);
}
