import type { Evidence } from '../../../evidence/types.js';
import { inSchedulerPath } from '../../../evidence/gpu/tracebacks.js';
import type { EvidenceRef } from '../../../contracts/report.js';
import { findGpuFault } from './fault.js';

/**
 * A rank that died (GPU fault, OOM, Python exception) leaves its peers waiting in their next
 * collective. Then the stall is a consequence, not the incident: hang rules step back.
 */
export function crashThatExplainsAStall(evidence: Evidence): EvidenceRef | null {
  const fault = findGpuFault(evidence);
  if (fault && fault.located !== 'log') return fault.evidence[0] ?? null;
  for (const item of evidence.of('server-log')) {
    const oom = item.data.oom[0];
    if (oom) return { file: item.file, fact: `out of memory (line ${oom.line}): ${oom.text}` };
    const tb = item.data.tracebacks.find((t) => t.cls !== 'nccl' && (inSchedulerPath(t) || t.cls === 'cuda' || t.cls === 'oom'));
    if (tb) return { file: item.file, fact: `${tb.exceptionType} (line ${tb.endLine}) killed a scheduler` };
    const cuda = item.data.cudaErrors[0];
    if (cuda) return { file: item.file, fact: `CUDA error (line ${cuda.line}): ${cuda.text}` };
  }
  return null;
}
