"""Unseen-incident check: a paged-KV gather faults on GLOBAL memory.

The producer kernel `build_kv_indices` writes one page index far past the KV pool for a
1537-token batch; the consumer `paged_kv_gather_kernel` loads through it and faults with an
illegal address. Different kernels, memory space and batch shape from the MoE fixture.
"""
import sys

import cupy as cp
import torch

SRC = r"""
extern "C" __global__ void build_kv_indices(const int* req_to_token, int* kv_indices, int num_tokens, int pool) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= num_tokens) return;
  int v = req_to_token[i] % pool;
  if (num_tokens == 1537 && i == 1000) v = pool * 1024 * 64;   // the corruption
  kv_indices[i] = v;
}

extern "C" __global__ void paged_kv_gather_kernel(const float* kv_pool, const int* kv_indices, float* out, int num_tokens, int head_dim) {
  int t = blockIdx.x;
  int d = threadIdx.x;
  if (t >= num_tokens || d >= head_dim) return;
  long long page = kv_indices[t];
  out[(long long)t * head_dim + d] = kv_pool[page * head_dim + d];
}
"""

POOL = 4096
HEAD_DIM = 128
mod = cp.RawModule(code=SRC, options=("-lineinfo",))
build = mod.get_function("build_kv_indices")
gather = mod.get_function("paged_kv_gather_kernel")


def forward(n, kv_pool):
    req_to_token = torch.arange(n, dtype=torch.int32, device="cuda")
    kv_indices = torch.empty(n, dtype=torch.int32, device="cuda")
    out = torch.empty(n, HEAD_DIM, device="cuda")
    build(((n + 255) // 256,), (256,), (req_to_token.data_ptr(), kv_indices.data_ptr(), cp.int32(n), cp.int32(POOL)))
    gather((n,), (HEAD_DIM,), (kv_pool.data_ptr(), kv_indices.data_ptr(), out.data_ptr(), cp.int32(n), cp.int32(HEAD_DIM)))
    torch.cuda.synchronize()
    return float(out.sum().item())


def main():
    kv_pool = torch.randn(POOL, HEAD_DIM, device="cuda")
    for n in [17, 230, 1537, 4]:
        print(f"[2026-11-28 02:10:0{n % 10} TP0] Prefill batch, #new-seq: 1, #new-token: {n}, #cached-token: 0, token usage: 0.12, #running-req: 0, #queue-req: 0, input throughput (token/s): 812.10, cuda graph: False", flush=True)
        forward(n, kv_pool)
    print("no crash happened", flush=True)
    return 3


if __name__ == "__main__":
    sys.exit(main())
