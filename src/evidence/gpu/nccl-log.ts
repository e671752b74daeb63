import type { Recognizer } from '../types.js';
import { analyseNccl, type NcclAnalysis } from './nccl-divergence.js';
import { findNcclPrefix, parseNcclLog, type NcclLog } from './nccl-log-parse.js';
import { looksLikeText, readEvidenceText } from './text.js';

export type { NcclCall, NcclProcess } from './nccl-log-parse.js';
export type { NcclAnalysis, NcclDivergence, CommGroup } from './nccl-divergence.js';

export interface NcclEvidence extends NcclLog {
  analysis: NcclAnalysis;
}

declare module '../types.js' {
  interface EvidenceKinds {
    'nccl-log': NcclEvidence;
  }
}

/** An NCCL debug line anywhere in the text (scanned by hand: see findNcclPrefix). */
const hasMarker = (text: string): boolean => {
  const p = findNcclPrefix(text);
  return p !== null && p.level !== 'TRACE';
};

/** Pure: text → parsed log + divergence analysis. */
export function readNcclText(text: string): NcclEvidence {
  const log = parseNcclLog(text);
  return { ...log, analysis: analyseNccl(log) };
}

export function describeNccl(e: NcclEvidence): string {
  const procs = Object.keys(e.processes).length;
  const calls = Object.values(e.processes).reduce((n, p) => n + p.calls.length, 0);
  const d = e.analysis.divergences[0];
  const div = d
    ? `; first divergence at collective #${d.index + 1} (${d.op}): ${d.kind === 'missing' ? `rank(s) ${d.divergentRanks.join(', ')} issued fewer` : d.ambiguous ? 'ranks disagree (tie)' : `rank(s) ${d.divergentRanks.join(', ')} differ`}`
    : calls
      ? '; no divergence between ranks'
      : '';
  return `NCCL log${e.version ? ` (NCCL ${e.version})` : ''}: ${procs} process(es), ${calls} collective call(s)${div}${e.warnings.length ? `; ${e.warnings.length} WARN line(s)` : ''}`;
}

export const ncclLogRecognizer: Recognizer<'nccl-log'> = {
  kind: 'nccl-log',
  sniff: (file) => looksLikeText(file) && (hasMarker(file.head) || file.size > file.head.length),
  async read(file, signal) {
    const text = await readEvidenceText(file, signal);
    if (!hasMarker(text)) return null;
    const e = readNcclText(text);
    return e.lineCount ? e : null;
  },
  describe: describeNccl,
};
