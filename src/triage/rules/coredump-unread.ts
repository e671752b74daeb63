import type { Evidence } from '../../evidence/types.js';
import { PRIORITY, type Rule } from '../rule.js';
import { coredumpGdbCommand } from './gpu-evidence/commands.js';
import { routeCommand } from '../next-commands.js';

/**
 * A CUDA coredump nobody has opened yet: the raw core in the folder, or the path the driver's progress
 * lines wrote it to ("coredump: Writing ELF file to PATH") with no exception line to say why. Either a
 * kernel raised an exception (crash) or someone triggered it during a hang; cuda-gdb tells which, so the
 * first thing to do is read it.
 */
export const unreadCoredumpRule: Rule = {
  id: 'cuda-coredump-unread',
  evaluate(evidence, ctx) {
    if (evidence.of('cuda-gdb').some((t) => t.data.mode === 'coredump')) return null;
    const unread = findUnread(evidence);
    if (!unread) return null;
    return {
      rule: this.id,
      priority: PRIORITY.weak,
      problemClass: 'unknown',
      strongestSignal: unread.raw ? `an unread CUDA coredump (${unread.file})` : `the CUDA driver wrote a coredump to ${unread.path} (${unread.file}), and nobody has read it`,
      bestGuess: 'A CUDA coredump exists: either a kernel raised an exception (crash) or someone triggered it during a hang. cuda-gdb tells which.',
      ruledOut: [],
      nextStep: { skill: 'collect-more', why: 'Open the coredump with cuda-gdb; the transcript routes the incident.', commands: [coredumpGdbCommand(ctx, unread.path), routeCommand(ctx)] },
      productionRisk: 'unknown until the coredump is read',
      facts: { coredump: unread.path },
      evidence: [{ file: unread.file, fact: unread.fact }],
    };
  },
};

function findUnread(evidence: Evidence): { path: string; file: string; fact: string; raw: boolean } | null {
  const core = evidence.of('cuda-coredump')[0];
  if (core) return { path: core.data.path, file: core.file, fact: `raw CUDA coredump, ${core.data.size} bytes${core.data.cudaSections !== undefined ? `, ${core.data.cudaSections} .cudbg sections` : ''}`, raw: true };
  for (const item of evidence.of('cuda-coredump-progress')) {
    if (!item.data.coredumpFile || item.data.exceptions.length) continue; // with an exception the crash rule has it
    return { path: item.data.coredumpFile, file: item.file, fact: `CUDA driver progress: coredump written to ${item.data.coredumpFile}${item.data.completed ? ' (All done)' : ' (not completed)'}, no exception line`, raw: false };
  }
  return null;
}
