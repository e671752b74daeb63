import type { Recognizer } from '../types.js';
import { computeSanitizerRecognizer } from './compute-sanitizer.js';
import { coredumpProgressRecognizer } from './coredump-progress.js';
import { cudaCoredumpRecognizer } from './cuda-coredump.js';
import { cudaGdbRecognizer } from './cuda-gdb.js';
import { hangCollectionRecognizer } from './hang-collection.js';
import { ncclLogRecognizer } from './nccl-log.js';
import { nvidiaSmiRecognizer } from './nvidia-smi.js';
import { pythonStacksRecognizer } from './python-stacks.js';
import { serverLogRecognizer } from './server-log.js';

/** GPU-side evidence: debugger, sanitizer, stacks, NCCL, nvidia-smi and server logs. */
export const GPU_RECOGNIZERS: readonly Recognizer[] = [
  cudaGdbRecognizer,
  coredumpProgressRecognizer,
  cudaCoredumpRecognizer,
  computeSanitizerRecognizer,
  pythonStacksRecognizer,
  ncclLogRecognizer,
  nvidiaSmiRecognizer,
  serverLogRecognizer,
  hangCollectionRecognizer,
];
