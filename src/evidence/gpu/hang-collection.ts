import type { Recognizer } from '../types.js';
import { readEvidenceText } from './text.js';

/**
 * `stacks/collection.json`, written by `triage run hang` (src/pipelines/host-evidence.ts): which
 * scheduler pids it found and what each tool returned for each. A tool that attached and printed
 * (`ok`) proves the process was alive at that moment, whatever the HTTP capture said.
 */
export interface HangCollection {
  mode: string;
  pids: number[];
  /** Pids for which py-spy or cuda-gdb attached and printed. */
  livePids: number[];
  /** pid → tool → outcome kind, for the report. */
  outcomes: Record<string, Record<string, string>>;
}

declare module '../types.js' {
  interface EvidenceKinds {
    'hang-collection': HangCollection;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPid = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** Pure: the parsed JSON → the collection, or null when it is not one. */
export function readHangCollection(value: unknown): HangCollection | null {
  if (!isObject(value) || !Array.isArray(value.pids) || !Array.isArray(value.ranks)) return null;
  const pids = value.pids.filter(isPid);
  const out: HangCollection = { mode: typeof value.mode === 'string' ? value.mode : 'unknown', pids, livePids: [], outcomes: {} };
  for (const rank of value.ranks.slice(0, 4096)) {
    if (!isObject(rank) || !isPid(rank.pid)) continue;
    const tools: Record<string, string> = {};
    for (const tool of ['pySpy', 'cudaGdb', 'coredump'] as const) {
      const o = rank[tool];
      if (isObject(o) && typeof o.kind === 'string') tools[tool] = o.kind;
    }
    out.outcomes[String(rank.pid)] = tools;
    if (tools.pySpy === 'ok' || tools.cudaGdb === 'ok') out.livePids.push(rank.pid);
  }
  return out;
}

export const hangCollectionRecognizer: Recognizer<'hang-collection'> = {
  kind: 'hang-collection',
  // Cheap look at the head; the full JSON is parsed only when both keys are there.
  sniff: (file) => file.size < 16 * 1024 * 1024 && /^\s*\{/.test(file.head.slice(0, 64)) && file.head.includes('"pids"') && file.head.includes('"ranks"'),
  async read(file, signal) {
    try {
      return readHangCollection(JSON.parse(await readEvidenceText(file, signal)));
    } catch {
      return null;
    }
  },
  describe: (c) => `triage hang collection (${c.mode}): ${c.pids.length} scheduler pid(s) found${c.livePids.length ? `, ${c.livePids.length} alive when the tools attached (${c.livePids.join(', ')})` : ''}`,
};
