import { describe, expect, it } from 'vitest';
import { itaniumBareName } from '../../src/evidence/gpu/itanium.js';
import { bareKernelName, collectiveFromName, indexProducerFor, isAddressException, normalizeCudaException, parseNcclKernel } from '../../src/evidence/gpu/kernel-names.js';

describe('itaniumBareName', () => {
  it.each([
    ['_Z27moe_align_block_size_kernelIiEvPKT_PiS3_S3_iimS3_bii', 'moe_align_block_size_kernel'],
    ['_Z27moe_align_block_size_kernelIiEvPKT_Piii', 'moe_align_block_size_kernel'],
    ['_Z31ncclDevKernel_AllGather_RING_LL24ncclDevKernelArgsStorageILm4096EE', 'ncclDevKernel_AllGather_RING_LL'],
    ['_ZN2at6native29vectorized_elementwise_kernelILi4ENS0_11FillFunctorIfEESt5arrayIPcLm1EEEEviT0_T1_', 'vectorized_elementwise_kernel'],
    ['_ZN4vllm3moe17topkGatingSoftmaxILi8ELi8ELi4ELi16EiEEvPKfPKbPfiPT_Piiii', 'topkGatingSoftmax'],
    // anonymous namespace, negative literal (Lin2E), bool literal, substitutions
    ['_ZN2at6native12_GLOBAL__N_121indexSelectLargeIndexIfljLi2ELi2ELin2ELb1EEEvNS_4cuda6detail10TensorInfoIT_T1_EES7_NS4_IT0_S6_EEiiS6_S6_l', 'indexSelectLargeIndex'],
    ['_ZN7cutlass13device_kernelIN5flash11FlashAttnFwdILi128EEEEEvNT_6ParamsE', 'device_kernel'],
    ['_Z21fp8_quant_pack_kernelPK6__halfPhPfi', 'fp8_quant_pack_kernel'],
    // an identifier containing an "E" must not end a template list early
    ['_Z10EEkernelEEIiEvv', 'EEkernelEE'],
  ])('%s → %s', (mangled, bare) => {
    expect(itaniumBareName(mangled)).toBe(bare);
  });

  it('refuses what is not a mangled name, and never throws on garbage', () => {
    expect(itaniumBareName('moe_align_block_size_kernel')).toBeNull();
    expect(itaniumBareName('_Z')).toBeNull();
    expect(itaniumBareName('_Z999abc')).toBeNull();
    for (const junk of ['_ZN', '_ZNIIIIIII', '_Z3fooILi', '_ZN3foo3barIN3bazILZ', '_Z3fooIXadL_Z3barEEEvv']) {
      expect(() => itaniumBareName(junk)).not.toThrow();
    }
  });
});

describe('bareKernelName', () => {
  it.each([
    ['void moe_align_block_size_kernel<int>(int const*, int*, int, int)', 'moe_align_block_size_kernel'],
    ['moe_align_block_size_kernel<int><<<(1,1,1),(1024,1,1)>>>', 'moe_align_block_size_kernel'],
    ['ncclDevKernel_AllGather_RING_LL(ncclDevKernelArgsStorage<4096ul>)<<<(4,1,1),(512,1,1)>>>', 'ncclDevKernel_AllGather_RING_LL'],
    ['void at::native::(anonymous namespace)::indexSelectSmallIndex<float, long, unsigned int, 2, 2, -2>(at::cuda::detail::TensorInfo<float, unsigned int>)', 'indexSelectSmallIndex'],
    ['void moe_align_block_size_kernel<int>(const T1 *, int *, int, int)', 'moe_align_block_size_kernel'],
    ['moe_align_block_size_kernel<int>()', 'moe_align_block_size_kernel'],
    ['fused_moe_kernel', 'fused_moe_kernel'],
    ['_Z27moe_align_block_size_kernelIiEvPKT_Piii', 'moe_align_block_size_kernel'],
  ])('%s → %s', (text, bare) => {
    expect(bareKernelName(text)).toBe(bare);
  });

  it('returns null for empty input', () => {
    expect(bareKernelName('   ')).toBeNull();
  });
});

describe('CUDA exception names', () => {
  it('maps the debugger API identifiers and signal numbers to cuda-gdb display names', () => {
    expect(normalizeCudaException('CUDBG_EXCEPTION_WARP_OUT_OF_RANGE_ADDRESS')).toBe('Warp Out-of-range Address');
    expect(normalizeCudaException('CUDBG_EXCEPTION_WARP_ILLEGAL_ADDRESS')).toBe('Warp Illegal Address');
    expect(normalizeCudaException('CUDBG_EXCEPTION_SOMETHING_NEW')).toBe('Something New');
    expect(normalizeCudaException('CUDA_EXCEPTION_14')).toBe('Warp Illegal Address');
    expect(normalizeCudaException('CUDA_EXCEPTION_10')).toBe('Device Illegal Address');
    expect(normalizeCudaException('Warp Assert')).toBe('Warp Assert');
  });

  it('knows which exceptions are address faults', () => {
    expect(isAddressException('Warp Out-of-range Address')).toBe(true);
    expect(isAddressException('Device Illegal Address')).toBe(true);
    expect(isAddressException('Warp Misaligned Address')).toBe(false);
    expect(isAddressException('Warp Illegal Instruction')).toBe(false);
  });
});

describe('NCCL kernels and collectives', () => {
  it('reads collective, algorithm and protocol from old and new kernel names', () => {
    expect(parseNcclKernel('ncclDevKernel_AllGather_RING_LL')).toEqual({ collective: 'AllGather', algorithm: 'RING', protocol: 'LL' });
    expect(parseNcclKernel('ncclDevKernel_AllReduce_Sum_f32_RING_LL128')).toEqual({ collective: 'AllReduce', algorithm: 'RING', protocol: 'LL128' });
    expect(parseNcclKernel('ncclKernel_ReduceScatter_TREE_SIMPLE_Sum_bf16')).toMatchObject({ collective: 'ReduceScatter', algorithm: 'TREE', protocol: 'SIMPLE' });
    expect(parseNcclKernel('moe_align_block_size_kernel')).toBeNull();
  });

  it('maps torch OpTypes and Python wrappers to NCCL collective names', () => {
    expect(collectiveFromName('ALLREDUCE')).toBe('AllReduce');
    expect(collectiveFromName('_ALLGATHER_BASE')).toBe('AllGather');
    expect(collectiveFromName('_REDUCE_SCATTER_BASE')).toBe('ReduceScatter');
    expect(collectiveFromName('tensor_model_parallel_all_gather')).toBe('AllGather');
    expect(collectiveFromName('synchronize')).toBeNull();
  });

  it('knows who produces the index input of known consumers', () => {
    expect(indexProducerFor('moe_align_block_size_kernel')?.input).toBe('topk_ids');
    expect(indexProducerFor('moe_align_block_size_kernel')?.producerPattern.test('topkGatingSoftmax')).toBe(true);
    expect(indexProducerFor('some_unknown_kernel')).toBeNull();
  });
});
