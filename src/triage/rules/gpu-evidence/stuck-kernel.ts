import type { Evidence } from '../../../evidence/types.js';
import { isNcclKernel } from '../../../evidence/gpu/kernel-names.js';
import { mainThreadOf } from '../../../evidence/gpu/python-stacks-parse.js';
import { stallPointOf } from '../../../evidence/gpu/python-stall.js';
import type { EvidenceRef } from '../../../contracts/report.js';
import { unique } from './common.js';
import { buildIdentity } from './processes.js';

/**
 * A kernel that never finishes, with no collective involved: a live process (cuda-gdb attach, or a
 * user-triggered coredump) shows a non-NCCL kernel running, its host thread waits for the GPU (a device,
 * stream or event synchronize), and nvidia-smi shows that GPU busy. Pure.
 */
export interface StuckKernel {
  kernel: string;
  /** Every live kernel seen, bare names (several rows of `info cuda kernels`). */
  liveKernels: string[];
  pid?: number;
  device?: number;
  launch?: { grid: string; block: string };
  /** The host call the process waits in, e.g. cudaDeviceSynchronize, and the chain above it. */
  hostWait?: { call: string; chain: string[]; file: string };
  utilisation?: { gpu: number; util: number; file: string };
  /** How the kernel was seen. */
  seenBy: 'attach' | 'coredump';
  evidence: EvidenceRef[];
}

const BUSY_PCT = 90;

export function findStuckKernel(evidence: Evidence): StuckKernel | null {
  const id = buildIdentity(evidence);
  let best: StuckKernel | null = null;
  for (const item of evidence.of('cuda-gdb')) {
    const t = item.data;
    // A fault is the crash rule's; a transcript with only NCCL kernels is the collective-hang rule's.
    if (t.exception || (t.mode !== 'attach' && t.mode !== 'coredump')) continue;
    const rows = t.kernels.filter((k) => !isNcclKernel(k.name));
    const names = unique(rows.map((k) => k.name));
    const focused = rows.find((k) => k.focused) ?? rows[0];
    const kernel = focused?.name ?? (t.kernel && !isNcclKernel(t.kernel.bare) ? t.kernel.bare : undefined);
    if (!kernel) continue;
    const found: StuckKernel = { kernel, liveKernels: names.length ? names : [kernel], seenBy: t.mode === 'attach' ? 'attach' : 'coredump', evidence: [] };
    if (t.pid !== undefined) found.pid = t.pid;
    const device = focused?.device ?? t.focus?.device;
    if (device !== undefined) found.device = device;
    const launch = focused ? { grid: focused.gridDim, block: focused.blockDim } : t.kernel?.launch;
    if (launch) found.launch = launch;
    if (t.mainThreadWait) found.hostWait = { call: t.mainThreadWait.call, chain: t.mainThreadWait.chain, file: item.file };
    found.evidence.push({
      file: item.file,
      fact: `cuda-gdb ${t.mode === 'attach' ? `attached to live pid ${t.pid ?? '?'}` : 'on a user-triggered coredump (no exception)'}: kernel ${kernel} running${launch ? ` ${launch.grid}x${launch.block}` : ''}${device !== undefined ? ` on device ${device}` : ''}${names.length > 1 ? `; ${names.length} live kernels: ${names.join(', ')}` : ''}${t.mainThreadWait ? `; main thread waits in ${t.mainThreadWait.chain.join(' ← ')}` : ''}`,
    });
    // Prefer the transcript that also shows the host waiting.
    if (!best || (!best.hostWait && found.hostWait)) best = found;
  }
  if (!best) return null;

  if (!best.hostWait) {
    for (const item of evidence.of('python-stacks')) {
      for (const p of item.data.processes) {
        if (best.pid !== undefined && p.pid !== undefined && p.pid !== best.pid) continue;
        const main = mainThreadOf(p);
        const stall = main ? stallPointOf(main) : undefined;
        if (stall?.kind !== 'device-sync') continue;
        best.hostWait = { call: stall.frame ?? 'synchronize', chain: stall.chain, file: item.file };
        best.evidence.push({ file: item.file, fact: `${p.source} stack${p.pid !== undefined ? ` of pid ${p.pid}` : ''}: main thread waits on the GPU in ${stall.chain.join(' ← ')}` });
        break;
      }
      if (best.hostWait && best.hostWait.file === item.file) break;
    }
  }

  const gpuIndex = best.pid !== undefined ? id.deviceOfPid(best.pid)?.device : undefined;
  for (const item of evidence.of('nvidia-smi')) {
    for (const s of [...item.data.snapshots].reverse()) {
      const gpus = s.gpus.filter((g) => g.index !== undefined && g.utilPct !== undefined);
      const g = gpus.find((x) => x.index === (gpuIndex ?? best.device)) ?? (gpus.length === 1 ? gpus[0] : undefined);
      if (!g || g.utilPct! < BUSY_PCT) continue;
      best.utilisation = { gpu: g.index!, util: g.utilPct!, file: item.file };
      best.evidence.push({ file: item.file, fact: `nvidia-smi: GPU ${g.index} at ${g.utilPct}% utilisation: the kernel is spinning, not waiting for input` });
      break;
    }
    if (best.utilisation) break;
  }
  return best;
}
