import type { Evidence } from '../../../evidence/types.js';
import { collectiveFromName, isNcclKernel, parseNcclKernel } from '../../../evidence/gpu/kernel-names.js';
import type { NcclDivergence } from '../../../evidence/gpu/nccl-log.js';
import { mainThreadOf } from '../../../evidence/gpu/python-stacks-parse.js';
import { stallPointOf, type StallKind } from '../../../evidence/gpu/python-stall.js';
import type { EvidenceRef } from '../../../contracts/report.js';
import { unique } from './common.js';
import { buildIdentity, type ProcessIdentity } from './processes.js';

/** What the folder says about ranks stuck in (or skipping) a collective. Pure. */
export interface ProcessState {
  who: string;
  pid?: number;
  rank?: number;
  /** in-collective: spinning in an NCCL kernel / waiting on it; skipped: alive and idle, no collective. */
  state: 'in-collective' | 'waiting-on-gpu' | 'idle' | 'unknown';
  detail: string;
  file: string;
}

export interface CollectiveStall {
  stuckKernel?: string;
  collective?: string;
  divergence?: NcclDivergence & { file: string };
  divergentRank?: number;
  divergentRanks: number[];
  /** A process that skipped the collective when its rank is unknown. */
  divergentPids: number[];
  lastCollectives: Record<string, string>;
  utilisation?: { busy: number[]; idle: number[]; util: Record<number, number>; file: string };
  processes: ProcessState[];
  torchWatchdog: boolean;
  /** There is a collective in sight (NCCL log, NCCL kernel, NCCL watchdog, collective frame). */
  collectiveInSight: boolean;
  /** Some scheduler is stuck (device sync / collective / watchdog fired). */
  stalled: boolean;
  pids: number[];
  evidence: EvidenceRef[];
}

export function findCollectiveStall(evidence: Evidence): CollectiveStall {
  const id = buildIdentity(evidence);
  const out: CollectiveStall = { divergentRanks: [], divergentPids: [], lastCollectives: {}, processes: [], torchWatchdog: false, collectiveInSight: false, stalled: false, pids: [], evidence: [] };
  const refs = out.evidence;

  for (const item of evidence.of('nccl-log')) {
    const a = item.data.analysis;
    if (Object.values(item.data.processes).some((p) => p.calls.length)) out.collectiveInSight = true;
    for (const g of a.groups) {
      for (const r of g.ranks) {
        const last = r.calls[r.calls.length - 1];
        if (last) out.lastCollectives[`rank ${r.rank}`] ??= `${last.op} count ${last.count ?? '?'} (#${r.calls.length} on comm ${g.id}, pid ${r.pid}, line ${last.line})`;
        out.pids.push(r.pid);
      }
    }
    const d = a.divergences[0];
    if (d && !out.divergence) {
      out.divergence = { ...d, file: item.file };
      out.collective ??= d.op;
      if (!d.ambiguous && d.divergentRanks.length) out.divergentRanks = d.divergentRanks;
      const per = d.perRank.map((r) => `rank ${r.rank} (pid ${r.pid}): ${r.total} call(s), at #${d.index + 1} ${r.callAtIndex ?? 'nothing'}`).join('; ');
      refs.push({
        file: item.file,
        fact: `NCCL COLL log: first divergence at collective #${d.index + 1} on comm ${d.group}: ${d.kind === 'missing' ? `rank(s) ${d.divergentRanks.join(', ')} never issued ${d.expected ?? d.op}` : d.ambiguous ? 'ranks disagree with no majority' : `rank(s) ${d.divergentRanks.join(', ')} issued a different call than ${d.expected}`} — ${per} (ranks from ${d.rankSource === 'init' ? 'NCCL init lines' : d.rankSource === 'cudaDev' ? 'the [device] field, one GPU per rank' : 'process order'})`,
      });
    }
  }

  for (const item of evidence.of('cuda-gdb')) {
    const t = item.data;
    if (t.exception) continue;
    const nccl = t.kernels.find((k) => isNcclKernel(k.name)) ?? (t.kernel && isNcclKernel(t.kernel.bare) ? { name: t.kernel.bare, device: t.focus?.device } : undefined);
    const rank = t.pid !== undefined ? id.rankOfPid(t.pid) : undefined;
    const who = rank ? `rank ${rank.rank} (pid ${t.pid})` : t.pid !== undefined ? `pid ${t.pid}` : item.file;
    if (t.pid !== undefined) out.pids.push(t.pid);
    if (nccl) {
      out.collectiveInSight = true;
      out.stalled = true;
      out.stuckKernel ??= nccl.name;
      const info = parseNcclKernel(nccl.name);
      if (info && info.collective !== 'unknown') out.collective ??= info.collective;
      out.processes.push({ who, ...pidRank(t.pid, rank?.rank), state: 'in-collective', detail: `live kernel ${nccl.name}${nccl.device !== undefined ? ` on device ${nccl.device}` : ''}`, file: item.file });
      refs.push({ file: item.file, fact: `cuda-gdb attached to ${who}: live kernel ${nccl.name}${nccl.device !== undefined ? ` on device ${nccl.device}` : ''}${t.mainThreadWait ? `; main thread blocked in ${t.mainThreadWait.chain.join(' ← ')}` : ''}` });
    } else if (t.mode === 'attach' && (t.noKernels || t.kernels.length === 0)) {
      out.processes.push({ who, ...pidRank(t.pid, rank?.rank), state: 'idle', detail: 'no CUDA kernels running', file: item.file });
      refs.push({ file: item.file, fact: `cuda-gdb attached to ${who}: no CUDA kernels running${t.mainThreadWait ? `; main thread in ${t.mainThreadWait.call}` : ''}` });
    }
  }

  for (const item of evidence.of('python-stacks')) {
    for (const p of item.data.processes) {
      const main = mainThreadOf(p);
      if (!main) continue;
      const stall = stallPointOf(main);
      const pid = p.pid ?? id.pidOfThread(main.id)?.pid;
      const rank = pid !== undefined ? id.rankOfPid(pid)?.rank : undefined;
      const who = rank !== undefined ? `rank ${rank} (pid ${pid})` : p.rank ? `${p.rank.label}${pid !== undefined ? ` (pid ${pid})` : ''}` : pid !== undefined ? `pid ${pid}` : `thread ${main.id}`;
      const state = toState(stall.kind);
      if (state === 'unknown') continue;
      if (stall.kind === 'collective') out.collectiveInSight = true;
      if (stall.kind === 'collective' || stall.kind === 'device-sync') out.stalled = true;
      if (stall.collective) out.collective ??= stall.collective;
      if (pid !== undefined) out.pids.push(pid);
      out.processes.push({ who, ...pidRank(pid, rank), state, detail: `${stall.kind} at ${stall.frame ?? '?'}: ${stall.chain.join(' ← ')}`, file: item.file });
      refs.push({ file: item.file, fact: `${p.source} stack of ${who}: main thread ${stall.kind === 'idle' ? 'idle' : 'stuck'} in ${stall.chain.join(' ← ')}` });
    }
  }

  for (const item of evidence.of('server-log')) {
    const wd = item.data.ncclWatchdog;
    if (wd.length) {
      out.collectiveInSight = true;
      out.stalled = true;
      out.torchWatchdog = true;
      const op = wd.find((w) => w.opType)?.opType;
      if (op) out.collective ??= collectiveFromName(op) ?? op;
      refs.push({ file: item.file, fact: `torch NCCL watchdog (line ${wd[0]!.line}): ${wd[0]!.text}` });
      const behind = ranksBehind(wd);
      if (behind.length && !out.divergentRanks.length) out.divergentRanks = behind;
    }
    const late = item.data.coredumpNotes.find((n) => /late attach/.test(n.text));
    if (late) refs.push({ file: item.file, fact: `the driver refused the user-triggered CUDA coredump (line ${late.line}: "${late.text}"): a debugger had attached first; trigger the coredump pipe before any attach` });
    for (const w of item.data.watchdogTimeouts) {
      out.stalled = true;
      refs.push({ file: item.file, fact: `${w.who} watchdog fired (line ${w.line}): ${w.text}` });
    }
  }

  for (const item of evidence.of('nvidia-smi')) {
    const a = item.data.asymmetry;
    if (!a || out.utilisation) continue;
    out.utilisation = { ...a, file: item.file };
    refs.push({ file: item.file, fact: `GPU utilisation asymmetry: GPU ${a.busy.join(', ')} at ${a.busy.map((g) => `${a.util[g]}%`).join(', ')} while GPU ${a.idle.join(', ')} at ${a.idle.map((g) => `${a.util[g]}%`).join(', ')} (spinning NCCL kernel vs a rank that never joined)` });
  }

  inferSkippers(out, id);
  if (out.divergentRanks.length) out.divergentRank = out.divergentRanks[0]!;
  out.pids = unique(out.pids);
  return out;
}

function pidRank(pid: number | undefined, rank: number | undefined): { pid?: number; rank?: number } {
  return { ...(pid !== undefined ? { pid } : {}), ...(rank !== undefined ? { rank } : {}) };
}

function toState(kind: StallKind): ProcessState['state'] {
  return kind === 'collective' ? 'in-collective' : kind === 'device-sync' ? 'waiting-on-gpu' : kind === 'idle' ? 'idle' : 'unknown';
}

/** torch's "last enqueued NCCL work: N": the ranks with the lowest N are behind their peers. */
function ranksBehind(lines: Array<{ torchRank?: number; lastEnqueued?: number }>): number[] {
  const byRank = new Map<number, number>();
  for (const l of lines) if (l.torchRank !== undefined && l.lastEnqueued !== undefined) byRank.set(l.torchRank, Math.max(byRank.get(l.torchRank) ?? -Infinity, l.lastEnqueued));
  if (byRank.size < 2) return [];
  const min = Math.min(...byRank.values());
  const max = Math.max(...byRank.values());
  return min === max ? [] : [...byRank.entries()].filter(([, n]) => n === min).map(([r]) => r);
}

/** Without an NCCL diff: the processes idle while a peer is in (or waiting on) a collective skipped it. */
function inferSkippers(out: CollectiveStall, id: ProcessIdentity): void {
  if (out.divergentRanks.length) return;
  const busy = out.processes.filter((p) => p.state === 'in-collective' || p.state === 'waiting-on-gpu');
  const idle = out.processes.filter((p) => p.state === 'idle');
  if (!busy.length || !idle.length) return;
  const busyKeys = new Set(busy.map((p) => p.pid ?? p.who));
  const skippers = idle.filter((p) => !busyKeys.has(p.pid ?? p.who));
  out.divergentRanks = unique(skippers.map((p) => p.rank ?? (p.pid !== undefined ? id.rankOfPid(p.pid)?.rank : undefined)).filter((r): r is number => r !== undefined));
  out.divergentPids = unique(skippers.map((p) => p.pid).filter((p): p is number => p !== undefined));
  if (skippers.length) {
    const s = skippers[0]!;
    out.evidence.push({ file: s.file, fact: `${s.who} is idle (${s.detail}) while ${busy.map((b) => b.who).join(', ')} ${busy.length > 1 ? 'are' : 'is'} in the collective: it skipped it` });
  }
}
