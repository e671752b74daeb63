import type { Evidence } from '../../../evidence/types.js';
import type { BatchLine, ServerLog } from '../../../evidence/gpu/server-log.js';

/** Helpers shared by the GPU rules. Pure. */

/** Has this folder already seen a replay? (replay/ outputs, or any replay evidence kind another module adds.) */
export function hasReplayEvidence(evidence: Evidence): boolean {
  return (evidence.items as Array<{ kind: string; file: string }>).some((i) => i.kind.includes('replay') || i.file.startsWith('replay/'));
}

/** What a replay in the folder says about the trigger request and whether the incident reproduced. */
export function replayFacts(evidence: Evidence): Record<string, unknown> {
  const replay = evidence.of('replay')[0];
  if (!replay) return {};
  const out: Record<string, unknown> = { reproduced: replay.data.reproduced };
  if (replay.data.trigger) out.triggerRequest = replay.data.trigger;
  return out;
}

export interface BatchRef {
  batch: BatchLine;
  file: string;
}

/** The last prefill batch logged before `beforeLine` (or at all): the incident's likely trigger shape. */
export function lastPrefill(logs: Array<{ file: string; data: ServerLog }>, before?: { file: string; line: number }): BatchRef | null {
  let best: BatchRef | null = null;
  for (const { file, data } of logs) {
    const limit = before && before.file === file ? before.line : Infinity;
    const prefills = data.batches.filter((b) => b.kind === 'prefill' && b.line < limit);
    const last = prefills[prefills.length - 1];
    if (last && (!best || (before?.file === file && best.file !== file))) best = { batch: last, file };
  }
  return best;
}

/** The last batch of any kind in the logs: what the scheduler was running when it stopped. */
export function lastBatch(logs: Array<{ file: string; data: ServerLog }>): BatchRef | null {
  for (const { file, data } of logs) {
    const last = data.batches[data.batches.length - 1];
    if (last) return { batch: last, file };
  }
  return null;
}

export function batchFact(b: BatchLine): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: b.kind };
  if (b.newSeq !== undefined) out.newSeq = b.newSeq;
  if (b.newToken !== undefined) out.newTokens = b.newToken;
  if (b.cachedToken !== undefined) out.cachedTokens = b.cachedToken;
  if (b.runningReq !== undefined) out.runningReqs = b.runningReq;
  if (b.rank) out.rank = b.rank.label;
  return out;
}

export function describeBatch(b: BatchLine): string {
  const parts =
    b.kind === 'prefill'
      ? [`#new-seq ${b.newSeq ?? '?'}`, `#new-token ${b.newToken ?? '?'}`, `#cached-token ${b.cachedToken ?? '?'}`]
      : [`#running-req ${b.runningReq ?? '?'}`, `#queue-req ${b.queueReq ?? '?'}`];
  return `${b.rank ? `[${b.rank.label}] ` : ''}${b.kind === 'prefill' ? 'Prefill' : 'Decode'} batch ${parts.join(', ')} (line ${b.line})`;
}

/** Lower-case hex without leading zeros, so faulthandler's 0x00007f… matches gdb's 0x7f…. */
export function normaliseThreadId(id: string): string {
  const m = /^0x0*([0-9a-f]+)$/i.exec(id.trim());
  return m?.[1] ? `0x${m[1].toLowerCase()}` : id.trim().toLowerCase();
}

export function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
