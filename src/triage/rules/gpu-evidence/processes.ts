import type { Evidence } from '../../../evidence/types.js';
import { numericRank } from '../../../evidence/gpu/log-envelope.js';
import { normaliseThreadId } from './common.js';

/**
 * Who is who across files: NCCL logs give pid → rank (and device → rank on one host), cuda-gdb
 * transcripts give pid, device and the pthread ids of their threads (which equal faulthandler's thread
 * ids), py-spy gives pid and the process title (`sglang::scheduler_TP1`), nvidia-smi gives pid → GPU.
 * Each link names the file it came from, so a claim built on it can point there.
 */
export interface ProcessIdentity {
  rankOfPid(pid: number): { rank: number; file: string } | undefined;
  rankOfDevice(device: number): { rank: number; file: string } | undefined;
  pidOfThread(threadId: string): { pid: number; file: string } | undefined;
  deviceOfPid(pid: number): { device: number; file: string } | undefined;
}

export function buildIdentity(evidence: Evidence): ProcessIdentity {
  const pidRank = new Map<number, { rank: number; file: string }>();
  const devRank = new Map<number, { rank: number; file: string }>();
  const threadPid = new Map<string, { pid: number; file: string }>();
  const pidDev = new Map<number, { device: number; file: string }>();

  for (const item of evidence.of('nccl-log')) {
    const hosts = new Set(Object.values(item.data.processes).map((p) => p.host));
    for (const [key, rank] of Object.entries(item.data.analysis.rankOfProcess)) {
      const proc = item.data.processes[key];
      if (!proc) continue;
      if (!pidRank.has(proc.pid)) pidRank.set(proc.pid, { rank, file: item.file });
      if (hosts.size === 1 && !devRank.has(proc.cudaDev)) devRank.set(proc.cudaDev, { rank, file: item.file });
      if (!pidDev.has(proc.pid)) pidDev.set(proc.pid, { device: proc.cudaDev, file: item.file });
    }
  }
  for (const item of evidence.of('python-stacks')) {
    for (const p of item.data.processes) {
      const rank = numericRank(p.rank);
      if (p.pid !== undefined && rank !== undefined && !pidRank.has(p.pid)) pidRank.set(p.pid, { rank, file: item.file });
    }
  }
  for (const item of evidence.of('cuda-gdb')) {
    const pid = item.data.pid;
    if (pid === undefined) continue;
    for (const t of item.data.threads) if (t.pthread) threadPid.set(normaliseThreadId(t.pthread), { pid, file: item.file });
    const device = item.data.focus?.device ?? item.data.kernels[0]?.device;
    if (device !== undefined && !pidDev.has(pid)) pidDev.set(pid, { device, file: item.file });
  }
  for (const item of evidence.of('nvidia-smi')) {
    for (const s of item.data.snapshots) {
      for (const p of s.processes) if (p.gpuIndex !== undefined && !pidDev.has(p.pid)) pidDev.set(p.pid, { device: p.gpuIndex, file: item.file });
    }
  }
  return {
    rankOfPid: (pid) => pidRank.get(pid),
    rankOfDevice: (device) => devRank.get(device),
    pidOfThread: (id) => threadPid.get(normaliseThreadId(id)),
    deviceOfPid: (pid) => pidDev.get(pid),
  };
}
