import type { Recognizer } from '../types.js';
import { mainThreadOf, parsePythonStacks, type PythonStacks } from './python-stacks-parse.js';
import { stallPointOf } from './python-stall.js';
import { looksLikeText, readEvidenceText } from './text.js';

export type { PythonStacks, PyProcessStacks, PyThreadStack, PyFrame } from './python-stacks-parse.js';

declare module '../types.js' {
  interface EvidenceKinds {
    'python-stacks': PythonStacks;
  }
}

const STACK_MARKERS = /\(most recent call first\):|^Process \d+: |^Thread (\d+|0x[0-9A-Fa-f]+) \((active|idle|gil|active\+gil)\)|Pyspy dump for PID/m;

export function describePythonStacks(s: PythonStacks): string {
  const parts = s.processes.map((p) => {
    const main = mainThreadOf(p);
    const who = p.rank?.label ?? (p.pid !== undefined ? `pid ${p.pid}` : `thread ${main?.id ?? '?'}`);
    const stall = main ? stallPointOf(main) : null;
    return `${who} (${p.source}${p.native ? ' --native' : ''}, ${p.threads.length} thread(s))${stall && stall.kind !== 'unknown' ? `: main thread ${stall.kind}${stall.frame ? ` in ${stall.frame}` : ''}` : ''}`;
  });
  return `Python stacks: ${parts.join('; ') || 'none'}${s.problems.length ? `; ${s.problems.length} dump failure(s)` : ''}`;
}

export const pythonStacksRecognizer: Recognizer<'python-stacks'> = {
  kind: 'python-stacks',
  // A server log may carry a watchdog dump far past its head, so large text files are read too.
  sniff: (file) => looksLikeText(file) && (STACK_MARKERS.test(file.head) || file.size > file.head.length),
  async read(file, signal) {
    const text = await readEvidenceText(file, signal);
    if (!STACK_MARKERS.test(text)) return null;
    const stacks = parsePythonStacks(text);
    return stacks.processes.length || stacks.problems.length ? stacks : null;
  },
  describe: describePythonStacks,
};
