import path from 'node:path';
import { incidentPaths } from '../../incident/layout.js';
import { runTool, type ToolDeps, type ToolOutcome } from './run-tool.js';

/**
 * `py-spy dump [--native] --pid PID` into stacks/. Like SGLang's own pre-crash dump, --native first
 * (C frames show cuEventSynchronize / NCCL), then plain when --native fails (no unwinder, old kernel).
 */
export interface PySpyOptions extends ToolDeps {
  incidentDir: string;
  pid: number;
  signal: AbortSignal;
  timeoutMs?: number;
  native?: boolean;
}

export async function collectPySpy(o: PySpyOptions): Promise<ToolOutcome> {
  const native = o.native ?? true;
  const file = path.join(incidentPaths(o.incidentDir).stacks, `py-spy.${o.pid}${native ? '.native' : ''}.txt`);
  return runTool({
    tool: 'py-spy',
    args: ['dump', ...(native ? ['--native'] : []), '--pid', String(o.pid)],
    outFile: file,
    timeoutMs: o.timeoutMs ?? 30_000,
    signal: o.signal,
    ...(o.env ? { env: o.env } : {}),
    ...(o.bin ? { bin: o.bin } : {}),
  });
}

/** --native, then plain on failure; not-installed and timeout are final (a second try would hang too). */
export async function collectPySpyWithFallback(o: Omit<PySpyOptions, 'native'>): Promise<ToolOutcome> {
  const first = await collectPySpy({ ...o, native: true });
  if (first.kind !== 'failed') return first;
  return collectPySpy({ ...o, native: false });
}
