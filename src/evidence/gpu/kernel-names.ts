import { itaniumBareName } from './itanium.js';

/**
 * Kernel names, CUDA exception names and NCCL kernel names, normalised the way report facts want
 * them: bare names (no namespaces, template arguments, parameter lists or launch configuration).
 */

/**
 * Bare kernel name from whatever a tool printed: a mangled symbol, a demangled signature
 * (`void moe_align_block_size_kernel<int>(int const*, int*, int, int)`), a frame with launch
 * geometry (`ncclDevKernel_AllGather_RING_LL(ncclDevKernelArgsStorage<4096ul>)<<<(4,1,1),(512,1,1)>>>`)
 * or a plain Triton kernel name (`fused_moe_kernel`). Null when nothing name-like is left.
 */
export function bareKernelName(text: string): string | null {
  let s = text.trim();
  if (!s) return null;
  const mangled = /^_{1,2}Z[A-Za-z0-9_]+/.exec(s);
  if (mangled) {
    const fromMangled = itaniumBareName(mangled[0]);
    if (fromMangled) return fromMangled;
  }
  s = replaceSpans(s, '<<<', '>>>', ' ');
  s = s.replace(/\(anonymous namespace\)/g, 'anonymous_namespace');
  s = replaceSpans(s, '{lambda', '}', 'lambda');
  s = s.replace(/\boperator\(\)/g, 'operator_call');
  // `[clone void k<4>(…)] device_fn(…)` (nvcc, compute-sanitizer) and `fn(int) [clone .isra.0]` (gcc): the clone note is not the name.
  s = dropBracketGroups(s);
  const top = topLevelText(s);
  // The name is the last identifier before the first top-level parameter list.
  const tokens = top.split(/\s+/).filter(Boolean);
  const candidate = tokens.reverse().find((t) => /[A-Za-z_]/.test(t) && !/^(const|volatile|__global__|static|inline)$/.test(t));
  if (!candidate) return null;
  const last = candidate.split('::').filter(Boolean).pop() ?? '';
  const cleaned = last.replace(/^[*&]+|[*&,;:]+$/g, '');
  if (!/^[A-Za-z_][A-Za-z0-9_$.]*$/.test(cleaned)) return null;
  return cleaned === 'operator_call' ? 'operator()' : cleaned;
}

/**
 * Replaces each `open … close` span with `by`, scanning once with indexOf (a lazy `open.*?close` regex is
 * quadratic on a long run of `open` with no `close`). An unclosed span is left as it is.
 */
function replaceSpans(s: string, open: string, close: string, by: string): string {
  let out = '';
  let from = 0;
  for (;;) {
    const start = s.indexOf(open, from);
    if (start < 0) break;
    const end = s.indexOf(close, start + open.length);
    if (end < 0) break;
    out += s.slice(from, start) + by;
    from = end + close.length;
  }
  return out + s.slice(from);
}

/** Removes `[…]` groups (nested brackets balanced), scanning once. */
function dropBracketGroups(s: string): string {
  if (!s.includes('[')) return s;
  let out = '';
  let depth = 0;
  for (const c of s) {
    if (c === '[') depth++;
    else if (c === ']' && depth > 0) depth--;
    else if (depth === 0) out += c;
  }
  return out;
}

/** Drops everything inside <...> and (...) and everything after the first top-level '('. */
function topLevelText(s: string): string {
  let depthAngle = 0;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '<') {
      depthAngle++;
      continue;
    }
    if (c === '>') {
      if (depthAngle > 0) depthAngle--;
      continue;
    }
    if (depthAngle > 0) continue;
    if (c === '(') break;
    out += c;
  }
  return out;
}

/** cuda-gdb's names for CUDA exceptions, keyed by the debugger API's CUDBG_EXCEPTION_* identifiers. */
const CUDBG_EXCEPTIONS: Record<string, string> = {
  LANE_ILLEGAL_ADDRESS: 'Lane Illegal Address',
  LANE_USER_STACK_OVERFLOW: 'Lane User Stack Overflow',
  DEVICE_HARDWARE_STACK_OVERFLOW: 'Device Hardware Stack Overflow',
  WARP_ILLEGAL_INSTRUCTION: 'Warp Illegal Instruction',
  WARP_OUT_OF_RANGE_ADDRESS: 'Warp Out-of-range Address',
  WARP_MISALIGNED_ADDRESS: 'Warp Misaligned Address',
  WARP_INVALID_ADDRESS_SPACE: 'Warp Invalid Address Space',
  WARP_INVALID_PC: 'Warp Invalid PC',
  WARP_HARDWARE_STACK_OVERFLOW: 'Warp Hardware Stack Overflow',
  DEVICE_ILLEGAL_ADDRESS: 'Device Illegal Address',
  LANE_MISALIGNED_ADDRESS: 'Lane Misaligned Address',
  WARP_ASSERT: 'Warp Assert',
  LANE_SYSCALL_ERROR: 'Lane Syscall Error',
  WARP_ILLEGAL_ADDRESS: 'Warp Illegal Address',
  LANE_NONMIGRATABLE_ATOMSYS: 'Lane Nonmigratable Atomsys',
  LANE_INVALID_ATOMSYS: 'Lane Invalid Atomsys',
  CLUSTER_OUT_OF_RANGE_ADDRESS: 'Cluster Out-of-range Address',
  CLUSTER_BLOCK_NOT_PRESENT: 'Cluster Target Block Not Present',
  DEVICE_UNKNOWN_EXCEPTION: 'Device Unknown Exception',
};

/** cuda-gdb's CUDA_EXCEPTION_<n> signal numbers. */
const CUDA_EXCEPTION_NUMBERS: Record<number, string> = {
  0: 'Device Unknown Exception',
  1: 'Lane Illegal Address',
  2: 'Lane User Stack Overflow',
  3: 'Device Hardware Stack Overflow',
  4: 'Warp Illegal Instruction',
  5: 'Warp Out-of-range Address',
  6: 'Warp Misaligned Address',
  7: 'Warp Invalid Address Space',
  8: 'Warp Invalid PC',
  9: 'Warp Hardware Stack Overflow',
  10: 'Device Illegal Address',
  11: 'Lane Misaligned Address',
  12: 'Warp Assert',
  13: 'Lane Syscall Error',
  14: 'Warp Illegal Address',
  17: 'Cluster Out-of-range Address',
  18: 'Cluster Target Block Not Present',
};

/**
 * The cuda-gdb display name of a CUDA exception, from any of its spellings:
 * `CUDBG_EXCEPTION_WARP_OUT_OF_RANGE_ADDRESS`, `CUDA_EXCEPTION_5`, `Warp Out-of-range Address`.
 */
export function normalizeCudaException(raw: string): string {
  const s = raw.trim();
  const cudbg = /CUDBG_EXCEPTION_([A-Z_]+)/.exec(s);
  if (cudbg?.[1]) return CUDBG_EXCEPTIONS[cudbg[1]] ?? titleCase(cudbg[1]);
  const numbered = /CUDA_EXCEPTION_(\d+)/.exec(s);
  if (numbered?.[1]) {
    const known = CUDA_EXCEPTION_NUMBERS[Number(numbered[1])];
    if (known) return known;
  }
  return s.replace(/[.\s]+$/, '');
}

function titleCase(upperSnake: string): string {
  return upperSnake
    .split('_')
    .map((w) => (w === 'PC' ? w : w.charAt(0) + w.slice(1).toLowerCase()))
    .join(' ')
    .replace('Out Of Range', 'Out-of-range');
}

/** Exceptions that mean "an address was out of the valid range": the index/pointer input is suspect. */
export function isAddressException(exception: string): boolean {
  return /address|out-of-range|out of bounds|illegal memory access/i.test(exception) && !/misaligned/i.test(exception);
}

export interface NcclKernelInfo {
  /** NCCL's collective name as its logs spell it: AllGather, AllReduce, ReduceScatter, Broadcast, Reduce, SendRecv. */
  collective: string;
  algorithm?: string;
  protocol?: string;
}

const NCCL_ALGORITHMS = ['COLLNET_DIRECT', 'COLLNET_CHAIN', 'NVLS_TREE', 'NVLS', 'RING', 'TREE', 'PAT'];
const NCCL_PROTOCOLS = ['LL128', 'LL', 'SIMPLE'];

/**
 * ncclDevKernel_AllGather_RING_LL → { AllGather, RING, LL }; newer builds add the reduction and type,
 * ncclDevKernel_AllReduce_Sum_f32_RING_LL → { AllReduce, RING, LL }; older ncclKernel_… the same.
 */
export function parseNcclKernel(bareName: string): NcclKernelInfo | null {
  const m = /^nccl(?:Dev)?Kernel_([A-Za-z]+)(?:_(.*))?$/.exec(bareName);
  if (!m?.[1]) return /^nccl/i.test(bareName) ? { collective: 'unknown' } : null;
  const info: NcclKernelInfo = { collective: m[1] === 'Generic' ? 'unknown' : m[1] };
  const rest = `_${m[2] ?? ''}_`;
  const algorithm = NCCL_ALGORITHMS.find((a) => rest.includes(`_${a}_`));
  if (algorithm) info.algorithm = algorithm;
  const protocol = NCCL_PROTOCOLS.find((p) => rest.includes(`_${p}_`));
  if (protocol) info.protocol = protocol;
  return info;
}

export function isNcclKernel(bareName: string): boolean {
  return /^nccl/i.test(bareName) || /cross_device_reduce|custom_all_reduce|all_reduce_kernel|allgather_kernel|one_shot_all_reduce|two_shot_all_reduce/i.test(bareName);
}

/** Torch ProcessGroupNCCL OpType / Python wrapper names → NCCL collective names. */
export function collectiveFromName(name: string): string | null {
  const n = name.toLowerCase().replace(/^_+/, '');
  if (/all_?gather|allgather/.test(n)) return 'AllGather';
  if (/reduce_?scatter/.test(n)) return 'ReduceScatter';
  if (/all_?reduce|allreduce/.test(n)) return 'AllReduce';
  if (/all_?to_?all|alltoall/.test(n)) return 'AllToAll';
  if (/broadcast/.test(n)) return 'Broadcast';
  if (/^reduce\b|^reduce$/.test(n)) return 'Reduce';
  if (/barrier/.test(n)) return 'Barrier';
  if (/^(send|recv|isend|irecv|sendrecv)/.test(n)) return 'SendRecv';
  return null;
}

/**
 * Knowledge of which SGLang kernels consume an index buffer that another kernel wrote one launch
 * earlier. When a consumer faults on an address, the producer is the first suspect.
 */
export interface IndexProducer {
  /** The input buffer the consumer indexes with. */
  input: string;
  /** Who normally writes it, in words. */
  producer: string;
  /** Bare kernel names that would be that producer when seen in evidence. */
  producerPattern: RegExp;
}

const INDEX_CONSUMERS: Array<{ consumer: RegExp; info: IndexProducer }> = [
  {
    consumer: /moe_align_block_size|count_and_sort_expert_tokens|moe_sum|fused_moe|moe_permute|moe_unpermute|expert_/i,
    info: {
      input: 'topk_ids',
      producer: 'the MoE routing top-k kernel',
      producerPattern: /topkGatingSoftmax|topk_softmax|grouped_topk|biased_grouped_topk|fused_topk|moe_fused_gate|kimi_k2_moe_fused_gate|topk_sigmoid/i,
    },
  },
  {
    consumer: /indexSelect|index_select|embedding|vocab_parallel_embedding|gather_kernel|index_kernel/i,
    info: {
      input: 'the index tensor (token or row ids)',
      producer: 'the kernel or step that produced those ids (sampling, tokenisation or a gather map)',
      producerPattern: /argmax_kernel|top_k_top_p_sampling_from_probs|sampling_from_probs|top_k_renorm_prob|top_p_renorm_prob/i,
    },
  },
  {
    consumer: /store_kvcache|reshape_and_cache|set_kv_buffer|copy_kv|write_req_to_token/i,
    info: {
      input: 'out_cache_loc / the KV slot mapping',
      producer: 'the KV cache allocator that handed out the slots',
      producerPattern: /alloc_extend_kernel|alloc_decode_kernel|assign_req_to_token_pool|write_req_to_token_pool_triton/i,
    },
  },
  {
    consumer: /attention|attn|flash|decode_kernel|prefill_kernel|BatchPrefill|BatchDecode|mla/i,
    info: {
      input: 'kv_indices / the page table',
      producer: 'the kernel that built the KV indices for this batch',
      producerPattern: /create_flashinfer_kv_indices_triton|create_chunked_prefix_cache_kv_indices|create_flashmla_kv_indices_triton/i,
    },
  },
];

export function indexProducerFor(faultingKernel: string): IndexProducer | null {
  return INDEX_CONSUMERS.find((c) => c.consumer.test(faultingKernel))?.info ?? null;
}

/** Every producer pattern, to spot upstream kernels mentioned anywhere in the evidence. */
export const KNOWN_PRODUCER_PATTERNS: readonly RegExp[] = INDEX_CONSUMERS.map((c) => c.info.producerPattern);
