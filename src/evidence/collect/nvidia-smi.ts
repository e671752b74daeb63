import path from 'node:path';
import { incidentPaths } from '../../incident/layout.js';
import { runTool, type ToolDeps, type ToolOutcome } from './run-tool.js';

/** nvidia-smi snapshots into gpu/: the plain table, then per-GPU utilisation/memory and per-process CSV. */
export interface NvidiaSmiOptions extends ToolDeps {
  incidentDir: string;
  signal: AbortSignal;
  timeoutMs?: number;
  /** Distinguishes snapshots taken at different moments ("baseline", "hang-15s"). */
  label?: string;
}

export interface NvidiaSmiOutcomes {
  table: ToolOutcome;
  gpus: ToolOutcome;
  apps: ToolOutcome;
}

export const GPU_QUERY = 'index,uuid,name,pci.bus_id,utilization.gpu,memory.used,memory.total';
export const APPS_QUERY = 'pid,gpu_uuid,process_name,used_memory';

export async function collectNvidiaSmi(o: NvidiaSmiOptions): Promise<NvidiaSmiOutcomes> {
  const dir = incidentPaths(o.incidentDir).gpu;
  const stem = `nvidia-smi${o.label ? `.${o.label}` : ''}`;
  const timeoutMs = o.timeoutMs ?? 20_000;
  const base = { tool: 'nvidia-smi', signal: o.signal, timeoutMs, ...(o.env ? { env: o.env } : {}), ...(o.bin ? { bin: o.bin } : {}) };
  const table = await runTool({ ...base, args: [], outFile: path.join(dir, `${stem}.txt`) });
  if (table.kind === 'not-installed') return { table, gpus: table, apps: table };
  const gpus = await runTool({ ...base, args: [`--query-gpu=${GPU_QUERY}`, '--format=csv'], outFile: path.join(dir, `${stem}.gpus.csv`) });
  const apps = await runTool({ ...base, args: [`--query-compute-apps=${APPS_QUERY}`, '--format=csv'], outFile: path.join(dir, `${stem}.apps.csv`) });
  return { table, gpus, apps };
}
