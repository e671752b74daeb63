import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { TriageError, throwIfAborted } from '../../errors.js';
import { writeFileAtomic } from '../../fsutil/atomic-write.js';

/**
 * Runs one GPU tool (cuda-gdb, py-spy, nvidia-smi, compute-sanitizer) with a deadline and the caller's
 * AbortSignal, and keeps what it printed in the incident folder. The outcome is a value, never a thrown
 * error: a hung debugger or a missing binary is an ordinary result of a triage step.
 */
export type ToolOutcome =
  | { kind: 'ok'; tool: string; file: string; exitCode: number; durationMs: number }
  | { kind: 'timeout'; tool: string; file: string; durationMs: number }
  | { kind: 'not-installed'; tool: string }
  | { kind: 'failed'; tool: string; file?: string; exitCode?: number; signal?: string; message: string; durationMs: number };

export interface ToolDeps {
  /**
   * The child's whole environment (PATH decides which binary runs); nothing else is inherited.
   * Left out, the child inherits the worker's environment.
   */
  env?: Record<string, string | undefined>;
  /** Executable override, e.g. an absolute cuda-gdb path from config. */
  bin?: string;
}

export interface RunToolOptions extends ToolDeps {
  tool: string;
  args: string[];
  /** Where stdout+stderr are written, interleaved as the tool printed them. */
  outFile: string;
  timeoutMs: number;
  signal: AbortSignal;
  /** Exit codes that still mean the output is usable (py-spy and cuda-gdb exit 1 after printing). */
  okExitCodes?: number[];
  /** Bytes kept from the tool's output. */
  maxBytes?: number;
  /** With a non-zero but accepted exit code: does the output hold what we came for? */
  usable?: (output: string) => boolean;
}

const KILL_GRACE_MS = 2000;

export async function runTool(o: RunToolOptions): Promise<ToolOutcome> {
  throwIfAborted(o.signal, o.tool);
  const started = Date.now();
  const result = await execa(o.bin ?? o.tool, o.args, {
    reject: false,
    all: true,
    stdin: 'ignore',
    timeout: o.timeoutMs,
    cancelSignal: o.signal,
    forceKillAfterDelay: KILL_GRACE_MS,
    maxBuffer: o.maxBytes ?? 64 * 1024 * 1024,
    ...(o.env ? { env: o.env, extendEnv: false } : {}),
    stripFinalNewline: false,
  });
  const durationMs = Date.now() - started;
  const spawnCode = (result as { code?: string }).code;
  if (spawnCode === 'ENOENT') return { kind: 'not-installed', tool: o.tool };

  const output = typeof result.all === 'string' ? result.all : '';
  let file: string | undefined;
  if (output.length) {
    await writeOutput(o.outFile, output);
    file = o.outFile;
  }
  if (result.isCanceled) {
    // The caller gave up (job cancelled, SIGTERM): what the tool printed is kept, then we stop.
    throw new TriageError('E_ABORTED', `${o.tool} aborted`, { cause: o.signal.reason, details: { file } });
  }
  if (result.timedOut) {
    if (!file) await writeOutput(o.outFile, `[triage] ${o.tool} printed nothing before its ${o.timeoutMs} ms deadline\n`);
    return { kind: 'timeout', tool: o.tool, file: o.outFile, durationMs };
  }
  const exitCode = result.exitCode;
  const acceptedNonZero = exitCode !== undefined && file !== undefined && (o.okExitCodes ?? []).includes(exitCode) && (o.usable?.(output) ?? true);
  if (exitCode === 0 || acceptedNonZero) {
    if (!file) await writeOutput(o.outFile, '');
    return { kind: 'ok', tool: o.tool, file: o.outFile, exitCode, durationMs };
  }
  const failed: ToolOutcome = { kind: 'failed', tool: o.tool, message: firstLine(result.message ?? '') || `${o.tool} exited ${exitCode ?? 'abnormally'}`, durationMs };
  if (file) failed.file = file;
  if (exitCode !== undefined) failed.exitCode = exitCode;
  if (result.signal) failed.signal = result.signal;
  return failed;
}

async function writeOutput(file: string, text: string): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, text);
  } catch (err) {
    throw new TriageError('E_IO', `cannot write ${file}`, { cause: err });
  }
}

function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim())?.trim().slice(0, 300) ?? '';
}

/** A file name safe for the incident folder: letters, digits, dot, dash, underscore. */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
}
