import type { Evidence } from '../../../evidence/types.js';
import type { EvidenceRef } from '../../../contracts/report.js';
import { unique } from './common.js';

/**
 * Evidence that the server's processes were alive when it was taken: a cuda-gdb attach that printed
 * threads or kernels, py-spy / faulthandler stacks taken from a running pid, pids that `triage run hang`
 * attached to (stacks/collection.json), GPU utilisation of a process. A refused HTTP capture says only that
 * the front end did not answer; this says the process is there and (maybe) stuck. Pure.
 */
export interface Liveness {
  alive: boolean;
  pids: number[];
  /** Highest GPU utilisation seen on a GPU with a process on it, when any. */
  busyGpu?: { index: number; util: number; file: string };
  evidence: EvidenceRef[];
}

export function findLiveness(evidence: Evidence): Liveness {
  const refs: EvidenceRef[] = [];
  const pids: number[] = [];
  for (const item of evidence.of('cuda-gdb')) {
    const t = item.data;
    if (t.mode !== 'attach' || (!t.threads.length && !t.kernels.length && !t.noKernels)) continue;
    if (t.pid !== undefined) pids.push(t.pid);
    refs.push({ file: item.file, fact: `cuda-gdb attached to live pid ${t.pid ?? '?'}${t.kernels.length ? ` with ${t.kernels.length} running kernel(s)` : ''}` });
  }
  for (const item of evidence.of('python-stacks')) {
    // A watchdog dump inside a log is history (the watchdog then kills the process); a py-spy or faulthandler file is a live read.
    const live = item.data.processes.filter((p) => p.source !== 'watchdog' && p.threads.length);
    if (!live.length) continue;
    for (const p of live) if (p.pid !== undefined) pids.push(p.pid);
    refs.push({ file: item.file, fact: `${live[0]!.source} read the stacks of ${live.length} running process(es)${live[0]!.pid !== undefined ? ` (pid ${live.map((p) => p.pid ?? '?').join(', ')})` : ''}` });
  }
  for (const item of evidence.of('hang-collection')) {
    if (!item.data.livePids.length) continue;
    pids.push(...item.data.livePids);
    refs.push({ file: item.file, fact: `triage attached to running scheduler pid(s) ${item.data.livePids.join(', ')}` });
  }
  let busyGpu: Liveness['busyGpu'];
  for (const item of evidence.of('nvidia-smi')) {
    for (const s of item.data.snapshots) {
      for (const g of s.gpus) {
        if (g.index === undefined || g.utilPct === undefined) continue;
        const used = s.processes.some((p) => p.gpuIndex === g.index || (p.gpuUuid !== undefined && p.gpuUuid === g.uuid)) || (g.memUsedMiB ?? 0) >= 1024;
        if (used && g.utilPct > 0 && (!busyGpu || g.utilPct > busyGpu.util)) busyGpu = { index: g.index, util: g.utilPct, file: item.file };
      }
    }
  }
  if (busyGpu) refs.push({ file: busyGpu.file, fact: `GPU ${busyGpu.index} at ${busyGpu.util}% utilisation with a process on it` });
  const out: Liveness = { alive: refs.length > 0, pids: unique(pids), evidence: refs };
  if (busyGpu) out.busyGpu = busyGpu;
  return out;
}
