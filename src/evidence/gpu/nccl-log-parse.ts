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

const PREFIX_RE = /([A-Za-z0-9_.-]+):(\d+):(\d+) \[(\d+)\] NCCL (INFO|WARN|ABORT|TRACE) (.*)$/;
const CALL_RE = /^([A-Za-z]+): opCount (\S+)(.*)$/;
const INIT_RE = /comm (0x[0-9a-fA-F]+|\(nil\)) rank (\d+) nranks (\d+) cudaDev (\d+)/;

/** Pure. */
export function parseNcclLog(text: string): NcclLog {
  const out: NcclLog = { processes: {}, warnings: [], lineCount: 0 };
  const lines = splitLogLines(text);
  for (let i = 0; i < lines.length; i++) {
    const m = PREFIX_RE.exec(lines[i]!);
    if (!m?.[1] || !m[2] || !m[4] || !m[5]) continue;
    out.lineCount++;
    const key = `${m[1]}:${m[2]}`;
    const proc = (out.processes[key] ??= { host: m[1], pid: Number(m[2]), cudaDev: Number(m[4]), comms: {}, calls: [] });
    const msg = (m[6] ?? '').trim();
    if (m[5] === 'WARN' || m[5] === 'ABORT') {
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
