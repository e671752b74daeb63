import { openRegularFile } from '../files.js';
import type { Recognizer, SniffedFile } from '../types.js';
import { fileReader, readElfCore } from './elf-core.js';

/**
 * A raw CUDA GPU coredump (what `CUDA_COREDUMP_FILE` / the coredump pipe produce). It is an ELF core
 * file for the CUDA machine: ELF magic, OS/ABI 0x33 (CUDA), e_type ET_CORE (4), e_machine EM_CUDA (190).
 * We do not parse it; its path goes into the cuda-gdb command of the next step.
 */
export interface CudaCoredumpFile {
  /** Absolute path on the host that scanned it. */
  path: string;
  size: number;
  /** `.cudbg` sections in its section-name table (the CUDA debugger's tables). */
  cudaSections?: number;
  /** The section table lies past the end of the file: cut, or still being written. */
  truncated?: boolean;
}

declare module '../types.js' {
  interface EvidenceKinds {
    'cuda-coredump': CudaCoredumpFile;
  }
}

const ET_CORE = 4;
const EM_CUDA = 190;
const ELFOSABI_CUDA = 0x33;

function u16le(s: string, at: number): number {
  return (s.charCodeAt(at) & 0xff) | ((s.charCodeAt(at + 1) & 0xff) << 8);
}

/** Pure: the sniffed head is latin1, so char codes are the file's bytes. */
export function isCudaCoredumpHead(head: string): boolean {
  if (head.length < 20 || !head.startsWith('\u007fELF')) return false;
  return head.charCodeAt(7) === ELFOSABI_CUDA && u16le(head, 16) === ET_CORE && u16le(head, 18) === EM_CUDA;
}

export const cudaCoredumpRecognizer: Recognizer<'cuda-coredump'> = {
  kind: 'cuda-coredump',
  sniff: (file: SniffedFile) => isCudaCoredumpHead(file.head),
  async read(file) {
    const out: CudaCoredumpFile = { path: file.path, size: file.size };
    const handle = await openRegularFile(file.path).catch(() => null);
    if (!handle) return out;
    try {
      const elf = await readElfCore(fileReader(handle), file.size);
      if (elf) {
        out.cudaSections = elf.cudaSections;
        out.truncated = elf.truncated;
      }
    } finally {
      await handle.close();
    }
    return out;
  },
  describe: (d) =>
    `CUDA GPU coredump (${Math.round(d.size / 1024 / 1024)} MiB${d.cudaSections !== undefined ? `, ${d.cudaSections} .cudbg sections` : ''}${d.truncated ? ', CUT: its section table is missing' : ''}): open with cuda-gdb "target cudacore"`,
};
