import { callLabel, type NcclCall, type NcclLog } from './nccl-log-parse.js';

/**
 * Rebuilds each rank's sequence of collectives per communicator and finds the first position where
 * the ranks disagree: a rank that issued fewer collectives (it skipped one, or stopped early), or a
 * collective with a different op, count or datatype. Pure.
 */
export interface RankSequence {
  rank: number;
  /** `host:pid` */
  process: string;
  host: string;
  pid: number;
  cudaDev: number;
  calls: NcclCall[];
}

export type RankSource = 'init' | 'cudaDev' | 'order';

export interface CommGroup {
  /** commId when NCCL printed it, else "nranks=<n>#<k>" (k-th communicator of that size per process). */
  id: string;
  nranks?: number;
  ranks: RankSequence[];
  /** How ranks were assigned: NCCL init lines, the device index, or process order (weakest). */
  rankSource: RankSource;
}

export interface RankAtDivergence {
  rank: number;
  process: string;
  pid: number;
  /** The call this rank issued at the divergent position (null: it issued none). */
  callAtIndex: string | null;
  total: number;
  last: string | null;
  lastLine?: number;
}

export interface NcclDivergence {
  group: string;
  nranks?: number;
  /** 0-based position in the per-communicator sequence. */
  index: number;
  kind: 'missing' | 'mismatch';
  /** Ranks that issued fewer collectives, or the minority at a mismatch. */
  divergentRanks: number[];
  /** What the other ranks issued at that position. */
  expected?: string;
  /** The collective op at the divergence (for facts.collective). */
  op: string;
  perRank: RankAtDivergence[];
  /** A tie (e.g. 2 ranks with different counts): no rank can be singled out. */
  ambiguous: boolean;
  rankSource: RankSource;
}

export interface NcclAnalysis {
  groups: CommGroup[];
  divergences: NcclDivergence[];
  /** `host:pid` → rank in the widest communicator (the TP/world group). */
  rankOfProcess: Record<string, number>;
  rankSource?: RankSource;
}

const P2P = new Set(['Send', 'Recv']);

function signature(c: NcclCall): string {
  return [c.op, c.count ?? '', c.datatype ?? '', c.redOp ?? '', c.op === 'Broadcast' || c.op === 'Reduce' ? (c.root ?? '') : ''].join('|');
}

export function analyseNccl(log: NcclLog): NcclAnalysis {
  const groups = buildGroups(log);
  const divergences: NcclDivergence[] = [];
  for (const g of groups) {
    const d = firstDivergence(g);
    if (d) divergences.push(d);
  }
  const widest = [...groups].sort((a, b) => (b.nranks ?? b.ranks.length) - (a.nranks ?? a.ranks.length))[0];
  const rankOfProcess: Record<string, number> = {};
  for (const r of widest?.ranks ?? []) rankOfProcess[r.process] = r.rank;
  const analysis: NcclAnalysis = { groups, divergences, rankOfProcess };
  if (widest) analysis.rankSource = widest.rankSource;
  return analysis;
}

function buildGroups(log: NcclLog): CommGroup[] {
  type Member = { process: string; comm: string; nranks?: number; rank?: number; calls: NcclCall[] };
  const byKey = new Map<string, Member[]>();
  for (const [key, proc] of Object.entries(log.processes)) {
    const order: string[] = [];
    const see = (comm: string): void => {
      if (!order.includes(comm)) order.push(comm);
    };
    Object.keys(proc.comms).forEach(see);
    proc.calls.forEach((c) => see(c.comm));
    const ordinal = new Map<number | undefined, number>();
    for (const comm of order) {
      const info = proc.comms[comm];
      const calls = proc.calls.filter((c) => c.comm === comm && !P2P.has(c.op));
      const nranks = info?.nranks ?? calls[0]?.nranks;
      const k = ordinal.get(nranks) ?? 0;
      ordinal.set(nranks, k + 1);
      const groupKey = info?.commId ?? `nranks=${nranks ?? '?'}#${k}`;
      const member: Member = { process: key, comm, calls };
      if (nranks !== undefined) member.nranks = nranks;
      if (info) member.rank = info.rank;
      const list = byKey.get(groupKey) ?? [];
      list.push(member);
      byKey.set(groupKey, list);
    }
  }
  const groups: CommGroup[] = [];
  for (const [id, members] of byKey) {
    const procs = members.map((m) => log.processes[m.process]!);
    let rankSource: RankSource = 'order';
    let rankOf: (m: Member, i: number) => number;
    if (members.every((m) => m.rank !== undefined)) {
      rankSource = 'init';
      rankOf = (m) => m.rank!;
    } else if (new Set(procs.map((p) => p.host)).size === 1 && new Set(procs.map((p) => p.cudaDev)).size === procs.length) {
      rankSource = 'cudaDev';
      rankOf = (m) => log.processes[m.process]!.cudaDev;
    } else {
      const sorted = [...members].sort((a, b) => a.process.localeCompare(b.process, undefined, { numeric: true }));
      rankOf = (m) => sorted.indexOf(m);
    }
    const ranks = members
      .map((m, i) => {
        const p = log.processes[m.process]!;
        return { rank: rankOf(m, i), process: m.process, host: p.host, pid: p.pid, cudaDev: p.cudaDev, calls: m.calls };
      })
      .sort((a, b) => a.rank - b.rank);
    const group: CommGroup = { id, ranks, rankSource };
    const nranks = members.find((m) => m.nranks !== undefined)?.nranks;
    if (nranks !== undefined) group.nranks = nranks;
    groups.push(group);
  }
  return groups;
}

function firstDivergence(g: CommGroup): NcclDivergence | null {
  if (g.ranks.length < 2) return null;
  const longest = Math.max(...g.ranks.map((r) => r.calls.length));
  for (let i = 0; i < longest; i++) {
    const at = g.ranks.map((r) => r.calls[i] ?? null);
    const missing = g.ranks.filter((_, k) => at[k] === null).map((r) => r.rank);
    const present = at.filter((c): c is NcclCall => c !== null);
    const bySig = new Map<string, number[]>();
    g.ranks.forEach((r, k) => {
      const c = at[k];
      if (!c) return;
      const list = bySig.get(signature(c)) ?? [];
      list.push(r.rank);
      bySig.set(signature(c), list);
    });
    if (missing.length === 0 && bySig.size <= 1) continue;
    const majority = [...bySig.entries()].sort((a, b) => b[1].length - a[1].length)[0];
    const expectedCall = present.find((c) => majority && signature(c) === majority[0]);
    const perRank: RankAtDivergence[] = g.ranks.map((r, k) => {
      const last = r.calls[r.calls.length - 1];
      const entry: RankAtDivergence = { rank: r.rank, process: r.process, pid: r.pid, callAtIndex: at[k] ? callLabel(at[k]!) : null, total: r.calls.length, last: last ? callLabel(last) : null };
      if (last) entry.lastLine = last.line;
      return entry;
    });
    const base = { group: g.id, index: i, perRank, rankSource: g.rankSource, op: expectedCall?.op ?? present[0]?.op ?? 'unknown' } as const;
    const withN = g.nranks !== undefined ? { nranks: g.nranks } : {};
    if (missing.length) {
      const d: NcclDivergence = { ...base, ...withN, kind: 'missing', divergentRanks: missing, ambiguous: missing.length === g.ranks.length };
      if (expectedCall) d.expected = callLabel(expectedCall);
      return d;
    }
    const sizes = [...bySig.values()].map((v) => v.length);
    const tie = sizes.filter((s) => s === Math.max(...sizes)).length > 1;
    const minority = tie ? [] : g.ranks.map((r) => r.rank).filter((rank) => !majority?.[1].includes(rank));
    const d: NcclDivergence = { ...base, ...withN, kind: 'mismatch', divergentRanks: minority, ambiguous: tie };
    if (expectedCall && !tie) d.expected = callLabel(expectedCall);
    return d;
  }
  return null;
}
