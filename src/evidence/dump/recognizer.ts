/**
 * `triage route` evidence: a crash or request dump, found by content (a pickle whose head names the
 * dump's keys or SGLang's request class), read with bounded limits and summarised.
 */
import { describeError, isTriageError } from '../../errors.js';
import { redactText } from '../../sglang/redact.js';
import type { Recognizer, SniffedFile } from '../types.js';
import { loadDumpFile } from './load.js';
import type { DumpSummary } from './model.js';
import { summarizeDumps } from './summary.js';

/** Words that appear near the start of every dump: its dict keys or the request class name. */
const DUMP_MARKERS = ['requests', 'server_args', 'GenerateReqInput', 'EmbeddingReqInput'];

/** Evidence folders are read unattended: a dump gets a minute and the default allocation bound. */
const ROUTE_LIMITS = { maxTimeMs: 60_000 };

export function looksLikeDump(head: string): boolean {
  const first = head.charCodeAt(0);
  const proto = head.charCodeAt(1);
  const binary = first === 0x80 && proto >= 2 && proto <= 5; // PROTO n
  const text = first === 0x28 || first === 0x7d || first === 0x5d; // protocols 0/1: MARK, EMPTY_DICT, EMPTY_LIST
  return (binary || text) && DUMP_MARKERS.some((marker) => head.includes(marker));
}

export const dumpRecognizer: Recognizer<'dump'> = {
  kind: 'dump',
  sniff: (file: SniffedFile) => looksLikeDump(file.head),
  async read(file, signal) {
    try {
      return summarizeDumps([await loadDumpFile(file.path, { signal, limits: ROUTE_LIMITS })]);
    } catch (err) {
      if (isTriageError(err) && err.details.notADump === true) return null;
      // A dump-looking pickle that cannot be read (truncated while the server died, say) is still evidence.
      if (isTriageError(err, 'E_BAD_INPUT') || isTriageError(err, 'E_LIMIT')) return unreadable(file, redactText(describeError(err)));
      throw err;
    }
  },
  describe: describeDump,
};

export function describeDump(data: DumpSummary): string {
  const broken = data.files.find((f) => f.error);
  if (broken && data.counts.requests === 0) return `SGLang dump, unreadable: ${broken.error}`;
  const kind = data.kind === 'crash' ? 'crash dump' : 'request dump';
  const c = data.counts;
  const parts = [`${kind}: ${c.requests} requests`];
  if (c.unfinished) parts.push(`${c.unfinished} unfinished (strongest trigger candidates: ${data.triggerCandidates.slice(0, 3).join(', ')})`);
  if (data.model) parts.push(`model ${data.model}`);
  if (data.topology.tp !== null) parts.push(`tp=${data.topology.tp} dp=${data.topology.dp ?? '?'}`);
  if (data.timeSpan.seconds !== null) parts.push(`${data.timeSpan.seconds} s span`);
  return parts.join(', ');
}

function unreadable(file: SniffedFile, error: string): DumpSummary {
  return {
    kind: null,
    files: [{ file: file.path, kind: null, protocol: null, bytes: file.size, requests: 0, unfinished: 0, error }],
    model: null,
    modelPath: null,
    topology: { tp: null, dp: null, pp: null, ep: null },
    endpoint: null,
    launchCommand: null,
    timeSpan: { start: null, end: null, seconds: null },
    counts: { requests: 0, finished: 0, unfinished: 0, streaming: 0, batch: 0, skipped: 0 },
    triggerCandidates: [],
    requests: [],
    serverArgs: null,
    notes: ['the file looks like an SGLang dump but could not be read; a dump cut short is often written by a dying process'],
  };
}
