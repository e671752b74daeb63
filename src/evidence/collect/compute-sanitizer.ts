import path from 'node:path';
import { incidentPaths } from '../../incident/layout.js';
import { runTool, safeName, type ToolDeps, type ToolOutcome } from './run-tool.js';

/** Runs a reproducer under compute-sanitizer (memcheck by default) and keeps the report in logs/. */
export interface SanitizerOptions extends ToolDeps {
  incidentDir: string;
  /** The program and its arguments, e.g. ["python3", "repro.py"]. */
  command: string[];
  tool?: 'memcheck' | 'racecheck' | 'synccheck' | 'initcheck';
  signal: AbortSignal;
  timeoutMs?: number;
}

export async function runUnderSanitizer(o: SanitizerOptions): Promise<ToolOutcome> {
  const tool = o.tool ?? 'memcheck';
  const label = safeName(path.basename(o.command[o.command.length - 1] ?? 'program'));
  return runTool({
    tool: 'compute-sanitizer',
    args: ['--tool', tool, '--target-processes', 'all', ...o.command],
    outFile: path.join(incidentPaths(o.incidentDir).logs, `compute-sanitizer.${tool}.${label}.txt`),
    timeoutMs: o.timeoutMs ?? 600_000,
    signal: o.signal,
    // The sanitizer exits non-zero when it found errors: that is the useful case.
    okExitCodes: [1, 2, 134, 255],
    usable: (output) => /^={5,}/m.test(output),
    ...(o.env ? { env: o.env } : {}),
    ...(o.bin ? { bin: o.bin } : {}),
  });
}
