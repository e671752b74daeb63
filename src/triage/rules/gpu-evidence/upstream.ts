import { indexProducerFor } from '../../../evidence/gpu/kernel-names.js';
import type { EvidenceRef } from '../../../contracts/report.js';
import type { GpuFault } from './fault.js';

/**
 * The method's key move for CUDA crashes: the kernel that faults is usually the victim. For an
 * address fault in a kernel that indexes with a buffer another kernel wrote, the producer one launch
 * upstream is the first suspect. Name it only when the evidence shows it; otherwise say what to look for.
 */
export interface UpstreamHint {
  hint: string;
  /** Bare name of the upstream kernel, only when a file shows it. */
  upstreamKernel?: string;
  evidence?: EvidenceRef;
}

/** Parameter names that hold indices into another buffer. */
const INDEX_LIKE = /ind(ex|ices)|(^|_)ids?$|idx|page|slot|(^|_)loc$|offsets?$|mapping/i;

export const GENERIC_UPSTREAM = 'the kernel that produced its index input, one launch upstream';

export function upstreamHint(fault: GpuFault): UpstreamHint {
  const k = fault.kernel;
  if (!k) {
    return { hint: `The faulting kernel is not named yet: get it from cuda-gdb on a CUDA coredump, then suspect ${GENERIC_UPSTREAM}.` };
  }
  if (/illegal instruction|invalid pc|stack overflow/i.test(fault.exception ?? '')) {
    return { hint: `${k} itself is the first suspect (an illegal instruction or stack fault is rarely caused by its inputs): check the build arch, JIT/Triton cache and the kernel's recursion/stack use.` };
  }
  if (/misaligned/i.test(fault.exception ?? '')) {
    return { hint: `${k} got a misaligned pointer or offset: check the views it was given (dtype, strides, storage offset), made by the op one launch upstream.` };
  }
  const producer = indexProducerFor(k);
  if (fault.assertFault) {
    return { hint: `${k} asserted on its input: the assert condition names the bad value; its producer is ${producer ? producer.producer : GENERIC_UPSTREAM}, one kernel upstream.` };
  }
  if (!fault.addressFault) {
    return { hint: `${k} faulted (${fault.exception ?? 'CUDA error'}): before blaming it, check ${GENERIC_UPSTREAM}.` };
  }
  if (producer) {
    const seen = fault.mentions.find((m) => m.name !== k && producer.producerPattern.test(m.name));
    if (seen) {
      return {
        hint: `${k} faulted on an out-of-range index read from ${producer.input}. Root cause is most likely ${seen.name}, one kernel upstream, which wrote ${producer.input} outside its valid range (e.g. an expert id not in [0, num_experts)). Check ${seen.name}'s output first.`,
        upstreamKernel: seen.name,
        evidence: { file: seen.file, fact: `${seen.name} appears here: the producer of ${producer.input}, one kernel upstream of ${k}` },
      };
    }
    return {
      hint: `${k} faulted on an out-of-range address computed from ${producer.input}. Root cause is likely ${GENERIC_UPSTREAM} (${producer.producer}, which writes ${producer.input}); no file here names that kernel, so confirm it by re-running the replay with SGLANG_KERNEL_API_LOGLEVEL=3 and checking ${producer.input} is in range.`,
    };
  }
  const indexParams = (fault.params ?? []).filter((p) => INDEX_LIKE.test(p));
  if (indexParams.length) {
    return {
      hint: `${k} faulted on an out-of-range address; its index-like input${indexParams.length > 1 ? 's are' : ' is'} ${indexParams.join(', ')}. Suspect ${GENERIC_UPSTREAM} (whatever wrote ${indexParams[0]}) before ${k} itself: log kernel inputs with SGLANG_KERNEL_API_LOGLEVEL=3 to see which value is out of range.`,
    };
  }
  return { hint: `${k} faulted on an out-of-range address. Suspect ${GENERIC_UPSTREAM} before ${k} itself: log kernel inputs with SGLANG_KERNEL_API_LOGLEVEL=3 to see which buffer is out of range.` };
}
