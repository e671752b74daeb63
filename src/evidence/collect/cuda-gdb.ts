import path from 'node:path';
import { incidentPaths } from '../../incident/layout.js';
import { runTool, safeName, type ToolDeps, type ToolOutcome } from './run-tool.js';

/**
 * cuda-gdb in batch mode, on a live process (attach) or on a CUDA coredump. Attaching disables the
 * process's user-triggered CUDA coredump ("not supported with late attach"), so hang pipelines trigger
 * the coredump pipe first (see coredump-trigger.ts / rank-evidence.ts).
 */
export interface AttachOptions extends ToolDeps {
  incidentDir: string;
  pid: number;
  signal: AbortSignal;
  timeoutMs?: number;
  /** Frames per thread. */
  depth?: number;
}

export function attachArgs(pid: number, depth = 30): string[] {
  return ['-p', String(pid), '-batch', '-ex', 'set pagination off', '-ex', 'info cuda kernels', '-ex', `thread apply all bt ${depth}`];
}

export async function attachCudaGdb(o: AttachOptions): Promise<ToolOutcome> {
  return runTool({
    tool: 'cuda-gdb',
    args: attachArgs(o.pid, o.depth),
    outFile: path.join(incidentPaths(o.incidentDir).stacks, `cuda-gdb-attach.${o.pid}.txt`),
    timeoutMs: o.timeoutMs ?? 120_000,
    signal: o.signal,
    okExitCodes: [1],
    usable: hasDebuggerOutput,
    ...(o.env ? { env: o.env } : {}),
    ...(o.bin ? { bin: o.bin } : {}),
  });
}

/** cuda-gdb exits 1 when one -ex command fails; the transcript still counts if it shows stacks or kernels. */
function hasDebuggerOutput(output: string): boolean {
  return /^#\d+\s|No CUDA kernels|Kernel\s+Parent|CUDA Exception|^Thread \d+ \(/m.test(output);
}

export interface CoredumpOptions extends ToolDeps {
  incidentDir: string;
  coredump: string;
  signal: AbortSignal;
  timeoutMs?: number;
}

export function coredumpArgs(coredump: string): string[] {
  return ['-batch', '-ex', 'set pagination off', '-ex', `target cudacore ${coredump}`, '-ex', 'where', '-ex', 'info cuda kernels', '-ex', 'x/12i $pc'];
}

export async function inspectCoredump(o: CoredumpOptions): Promise<ToolOutcome> {
  return runTool({
    tool: 'cuda-gdb',
    args: coredumpArgs(o.coredump),
    outFile: path.join(incidentPaths(o.incidentDir).coredumps, `${safeName(path.basename(o.coredump))}.cuda-gdb.txt`),
    timeoutMs: o.timeoutMs ?? 180_000,
    signal: o.signal,
    okExitCodes: [1],
    usable: hasDebuggerOutput,
    ...(o.env ? { env: o.env } : {}),
    ...(o.bin ? { bin: o.bin } : {}),
  });
}
