import { splitLogLines } from './log-envelope.js';
import type { Recognizer } from '../types.js';
import { bareKernelName, normalizeCudaException } from './kernel-names.js';
import { looksLikeText, readEvidenceText } from './text.js';

/**
 * The CUDA driver's own progress lines while it writes a GPU coredump
 * (`CUDA_COREDUMP_SHOW_PROGRESS=1`), found in a crashed process's stderr:
 *
 *   [00:55:53.351244] coredump: Detected an exception of type CUDBG_EXCEPTION_WARP_OUT_OF_RANGE_ADDRESS (5)
 *   [00:55:53.351254] coredump:   - Device: 0
 *   [00:55:53.351984] coredump:   #0	0x7f22cf7a1ae0	_Z27moe_align_block_size_kernelIiEvPKT_Piii
 *
 * They name the exception and the faulting kernel even when nobody ran cuda-gdb yet.
 */
export interface CoredumpException {
  /** cuda-gdb display name. */
  name: string;
  /** CUDBG_EXCEPTION_* as printed. */
  raw: string;
  device?: number;
  sm?: number;
  warp?: number;
  pc?: string;
  frames: Array<{ pc: string; symbol: string; bare: string | null }>;
  /** Index of the first line of this exception in the file (1-based). */
  line: number;
}

export interface CoredumpProgress {
  exceptions: CoredumpException[];
  /** Where the driver wrote the coredump. */
  coredumpFile?: string;
  /** The driver printed "All done": the coredump file is complete. */
  completed: boolean;
  /** Lines where the driver refused or failed (late attach, write errors). */
  problems: string[];
}

declare module '../types.js' {
  interface EvidenceKinds {
    'cuda-coredump-progress': CoredumpProgress;
  }
}

const LINE_RE = /coredump:\s?(.*)$/;

/** Pure. */
export function parseCoredumpProgress(text: string): CoredumpProgress {
  const out: CoredumpProgress = { exceptions: [], completed: false, problems: [] };
  let current: CoredumpException | null = null;
  const lines = splitLogLines(text);
  lines.forEach((raw, i) => {
    const m = LINE_RE.exec(raw);
    if (!m) {
      if (/CUDA coredump is not supported|coredump.*(failed|disabled)/i.test(raw) && out.problems.length < 10) out.problems.push(raw.trim());
      return;
    }
    const msg = (m[1] ?? '').replace(/\t/g, ' ').trim();
    const exc = /Detected an exception of type (\S+)/.exec(msg);
    if (exc?.[1]) {
      current = { name: normalizeCudaException(exc[1]), raw: exc[1], frames: [], line: i + 1 };
      out.exceptions.push(current);
      return;
    }
    const file = /Writing ELF file to (\S+)/.exec(msg);
    if (file?.[1]) out.coredumpFile = file[1];
    if (/^All done/.test(msg)) out.completed = true;
    if (/error|fail|unable/i.test(msg) && out.problems.length < 10) out.problems.push(msg);
    if (!current) return;
    const field = /^- (Device|SM|Warp):\s*(\d+)/.exec(msg);
    if (field?.[1] && field[2]) {
      const key = field[1] === 'Device' ? 'device' : field[1] === 'SM' ? 'sm' : 'warp';
      current[key] = Number(field[2]);
      return;
    }
    const pc = /^- PC (0x[0-9a-fA-F]+)/.exec(msg);
    if (pc?.[1]) {
      current.pc = pc[1];
      return;
    }
    const frame = /^#(\d+)\s+(0x[0-9a-fA-F]+)\s+(\S+)/.exec(msg);
    if (frame?.[2] && frame[3]) current.frames.push({ pc: frame[2], symbol: frame[3], bare: bareKernelName(frame[3]) });
  });
  return out;
}

export function describeCoredumpProgress(p: CoredumpProgress): string {
  const first = p.exceptions[0];
  const what = first ? `${first.name}${first.frames[0]?.bare ? ` in ${first.frames[0].bare}` : ''}` : 'no exception recorded';
  return `CUDA driver coredump progress: ${what}; coredump ${p.completed ? 'completed' : 'not completed'}${p.coredumpFile ? ` (${p.coredumpFile})` : ''}`;
}

const MARKER = /coredump: (Starting GPU coredump generation|Detected an exception of type|SM \d+\/\d+ has finished|Writing ELF file|All done)/;

export const coredumpProgressRecognizer: Recognizer<'cuda-coredump-progress'> = {
  kind: 'cuda-coredump-progress',
  sniff: (file) => looksLikeText(file) && (MARKER.test(file.head) || file.size > file.head.length),
  async read(file, signal) {
    const text = await readEvidenceText(file, signal);
    if (!MARKER.test(text)) return null;
    const parsed = parseCoredumpProgress(text);
    return parsed.exceptions.length || parsed.coredumpFile || parsed.completed ? parsed : null;
  },
  describe: describeCoredumpProgress,
};
