import type { Recognizer } from '../types.js';
import { describeCudaGdb, parseCudaGdb, type CudaGdbTranscript } from './cuda-gdb-parse.js';
import { looksLikeText, readEvidenceText } from './text.js';

export type { CudaGdbTranscript } from './cuda-gdb-parse.js';

declare module '../types.js' {
  interface EvidenceKinds {
    'cuda-gdb': CudaGdbTranscript;
  }
}

/** Markers only cuda-gdb (or gdb with the CUDA debugger loaded) prints. */
const CUDA_GDB_MARKERS = /Opening GPU coredump|CUDA Exception:|received signal CUDA_EXCEPTION_|focus set to CUDA kernel|Switching focus to CUDA kernel|^No CUDA kernels\.|Kernel\s+Parent\s+Dev\s+Grid|libcudadebugger\.so|NVIDIA \(R\) CUDA Debugger|target cudacore/m;
/** Plain gdb attach noise: the CUDA markers may sit past the head of a transcript with thousands of threads. */
const GDB_MARKERS = /^\[New LWP \d+\]|^\[Thread debugging using libthread_db enabled\]|^Thread \d+ \(Thread 0x[0-9a-f]+ \(LWP \d+\)/m;

export const cudaGdbRecognizer: Recognizer<'cuda-gdb'> = {
  kind: 'cuda-gdb',
  sniff: (file) => looksLikeText(file) && (CUDA_GDB_MARKERS.test(file.head) || GDB_MARKERS.test(file.head)),
  async read(file, signal) {
    const text = await readEvidenceText(file, signal);
    if (!CUDA_GDB_MARKERS.test(text) && !GDB_MARKERS.test(text)) return null;
    const parsed = parseCudaGdb(text);
    const useful = parsed.exception || parsed.kernel || parsed.kernels.length || parsed.noKernels || parsed.threads.length || parsed.coredumpPath;
    return useful ? parsed : null;
  },
  describe: describeCudaGdb,
};
