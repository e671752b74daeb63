/**
 * NCCL debug output (`NCCL_DEBUG=INFO`, `NCCL_DEBUG_SUBSYS=COLL` for the per-call lines):
 *
 *   vm:930:930 [1] NCCL INFO AllGather: opCount 0 sendbuff 0x… recvbuff 0x… count 4096 datatype 7 op 0 root 0 comm 0x231d99d0 [nranks=2] stream (nil)
 *   host:929:1001 [0] NCCL INFO comm 0xceec0a0 rank 0 nranks 2 cudaDev 0 nvmlDev 0 busId 6000 commId 0x… - Init COMPLETE
 *
 * The prefix is `host:pid:tid [cudaDev]`: the bracket is the process's CUDA device, NOT its rank.
 * Ranks come from the init lines (rank per communicator); without them we fall back to the device
 * index when it is unique per process on one host (the common one-GPU-per-rank TP layout).
 */
import { splitLogLines } from './log-envelope.js';
export interface NcclCall {
  op: string;
  opCount?: string;
  count?: number;
  datatype?: number;
  redOp?: number;
  root?: number;
  /** Communicator pointer in this process. */
  comm: string;
  nranks?: number;
  /** 1-based line in the file. */
  line: number;
}

export interface NcclProcess {
  host: string;
  pid: number;
  cudaDev: number;
  /** Communicators this process initialised: pointer → { rank, nranks, commId }. */
  comms: Record<string, { rank: number; nranks: number; commId?: string; cudaDev?: number }>;
  calls: NcclCall[];
}

export interface NcclLog {
  version?: string;
  /** Keyed by `host:pid`. */
  processes: Record<string, NcclProcess>;
  warnings: Array<{ line: number; text: string; process: string }>;
  /** Any INFO line at all (so an init-only log is still NCCL evidence). */
  lineCount: number;
}

export interface NcclPrefix {
  host: string;
  pid: number;
  tid: number;
  cudaDev: number;
  level: 'INFO' | 'WARN' | 'ABORT' | 'TRACE';
  /** Index just past `NCCL LEVEL ` (or the end): where the message starts. */
  msgAt: number;
}

const MARK = '] NCCL ';
const LEVELS = ['INFO', 'WARN', 'ABORT', 'TRACE'] as const;
const MAX_HOST = 253;
const MAX_NUM = 10;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isHostChar = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 45;

/**
 * The first `host:pid:tid [dev] NCCL LEVEL` prefix in `s`, found by hand: each `] NCCL ` is checked by
 * walking back over bounded runs of digits and host characters. Linear in the length of `s` (a regex with
 * an unanchored `[A-Za-z0-9_.-]+` took 44 s on a 256 KiB line of hex).
 */
export function findNcclPrefix(s: string, from = 0): NcclPrefix | null {
  for (let at = s.indexOf(MARK, from); at >= 0; at = s.indexOf(MARK, at + 1)) {
    const p = prefixEndingAt(s, at);
    if (p) return p;
  }
  return null;
}

function prefixEndingAt(s: string, at: number): NcclPrefix | null {
  const rest = at + MARK.length;
  const level = LEVELS.find((l) => s.startsWith(l, rest) && (rest + l.length === s.length || s[rest + l.length] === ' ' || s[rest + l.length] === '\n' || s[rest + l.length] === '\r'));
  if (!level) return null;
  // back over: digits '[' ' ' digits ':' digits ':' host
  let i = at - 1;
  const digitsBack = (): number | null => {
    const end = i;
    while (i >= 0 && end - i < MAX_NUM && isDigit(s.charCodeAt(i))) i--;
    return end === i ? null : Number(s.slice(i + 1, end + 1));
  };
  const dev = digitsBack();
  if (dev === null || s[i] !== '[' || s[i - 1] !== ' ') return null;
  i -= 2;
  const tid = digitsBack();
  if (tid === null || s[i] !== ':') return null;
  i--;
  const pid = digitsBack();
  if (pid === null || s[i] !== ':') return null;
  const hostEnd = i;
  i--;
  while (i >= 0 && hostEnd - i <= MAX_HOST && isHostChar(s.charCodeAt(i))) i--;
  if (hostEnd - i - 1 < 1) return null;
  return { host: s.slice(i + 1, hostEnd), pid, tid, cudaDev: dev, level, msgAt: Math.min(s.length, rest + level.length + 1) };
}
const CALL_RE = /^([A-Za-z]+): opCount (\S+)(.*)$/;
const INIT_RE = /comm (0x[0-9a-fA-F]+|\(nil\)) rank (\d+) nranks (\d+) cudaDev (\d+)/;

/** Pure. */
export function parseNcclLog(text: string): NcclLog {
  const out: NcclLog = { processes: {}, warnings: [], lineCount: 0 };
  const lines = splitLogLines(text);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = findNcclPrefix(line);
    if (!m) continue;
    out.lineCount++;
    const key = `${m.host}:${m.pid}`;
    const proc = (out.processes[key] ??= { host: m.host, pid: m.pid, cudaDev: m.cudaDev, comms: {}, calls: [] });
    const msg = line.slice(m.msgAt).trim();
    if (m.level === 'WARN' || m.level === 'ABORT') {
      if (out.warnings.length < 50) out.warnings.push({ line: i + 1, text: msg, process: key });
      continue;
    }
    const version = /^NCCL version (\S+)/.exec(msg);
    if (version?.[1]) {
      out.version ??= version[1];
      continue;
    }
    const init = INIT_RE.exec(msg);
    if (init?.[1] && init[2] && init[3] && init[4]) {
      const entry: NcclProcess['comms'][string] = { rank: Number(init[2]), nranks: Number(init[3]), cudaDev: Number(init[4]) };
      const commId = /commId (0x[0-9a-fA-F]+)/.exec(msg);
      if (commId?.[1]) entry.commId = commId[1];
      proc.comms[init[1]] = entry;
      continue;
    }
    const call = CALL_RE.exec(msg);
    if (call?.[1] && call[2]) {
      const rest = call[3] ?? '';
      const num = (re: RegExp): number | undefined => {
        const v = re.exec(rest)?.[1];
        return v === undefined ? undefined : Number(v);
      };
      const c: NcclCall = { op: call[1], opCount: call[2], comm: /comm (\S+)/.exec(rest)?.[1] ?? '?', line: i + 1 };
      const fields: Array<[keyof NcclCall, number | undefined]> = [
        ['count', num(/\bcount (\d+)/)],
        ['datatype', num(/datatype (\d+)/)],
        ['redOp', num(/\bop (\d+)/)],
        ['root', num(/root (-?\d+)/)],
        ['nranks', num(/\[nranks=(\d+)\]/)],
      ];
      for (const [k, v] of fields) if (v !== undefined) (c as unknown as Record<string, number>)[k] = v;
      proc.calls.push(c);
    }
  }
  return out;
}

/** Short label of one call: "AllGather count 4096 dtype 7". */
export function callLabel(c: NcclCall): string {
  return `${c.op}${c.count !== undefined ? ` count ${c.count}` : ''}${c.datatype !== undefined ? ` datatype ${c.datatype}` : ''}`;
}
