// Planted GPU faults for triage fixtures: one binary, one fault per mode (argv[1]).
// Kernels are templated / namespaced on purpose so transcripts carry mangled and demangled names.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
  fprintf(stderr, "CUDA error at %s:%d: %s (%s)\n", __FILE__, __LINE__, cudaGetErrorString(e_), cudaGetErrorName(e_)); \
  exit(1); } } while (0)

namespace sampling {
// A NaN guard that traps: the device-side equivalent of an abort with no message.
template <typename T>
__global__ void nan_guard_softmax_kernel(const T* logits, T* probs, int vocab) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= vocab) return;
  T v = logits[i];
  if (v != v) __trap();
  probs[i] = v;
}
}  // namespace sampling

namespace quant {
// Reads packed int4 pairs as int32 from a byte offset that is not 4-aligned.
__global__ void dequant_int4_rows_kernel(const char* packed, float* out, int row_bytes, int rows) {
  int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  const int* word = reinterpret_cast<const int*>(packed + (long long)r * row_bytes + 1);  // row_bytes odd
  out[r] = (float)(*word & 0xF);
}
}  // namespace quant

namespace attn {
__device__ __noinline__ void store_partial_lse(float* lse, long long slot, float v) {
  lse[slot] = v;  // slot comes from an unchecked split index
}

template <int kSplits>
__global__ void merge_attn_states_kernel(const float* partial, float* lse, const int* split_of_token, int tokens) {
  int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= tokens) return;
  float m = partial[t];
  long long slot = (long long)split_of_token[t] * kSplits + t;
  store_partial_lse(lse, slot, m);
}
}  // namespace attn

// Shared-memory tile reduction missing a __syncthreads between write and neighbour read.
__global__ void rmsnorm_tile_reduce_kernel(const float* x, float* out, int n) {
  __shared__ float tile[256];
  int tid = threadIdx.x;
  int i = blockIdx.x * blockDim.x + tid;
  tile[tid] = i < n ? x[i] * x[i] : 0.f;
  // missing __syncthreads();
  float s = tile[tid] + tile[(tid + 32) % blockDim.x];
  if (i < n) out[i] = s;
}

// Reads a scratch buffer nobody wrote (initcheck).
__global__ void rope_cos_sin_cache_kernel(const float* cache, float* q, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) q[i] *= cache[i];
}

// A barrier reached by only part of the block (synccheck).
__global__ void topk_partial_barrier_kernel(float* v, int n) {
  int i = threadIdx.x;
  if (i < 16) {
    v[i] += 1.f;
    __syncthreads();
  }
  if (i < n) v[i] *= 2.f;
}

// __syncwarp with a mask that leaves out the calling lanes (synccheck: invalid arguments).
__global__ void warp_reduce_bad_mask_kernel(float* v) {
  int lane = threadIdx.x & 31;
  float x = v[threadIdx.x];
  x += __shfl_down_sync(0xffffffffu, x, 1);
  __syncwarp(0x0000ffffu);  // lanes 16..31 call it too
  v[threadIdx.x] = x + lane;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  printf("[faults] mode=%s\n", mode);
  fflush(stdout);
  if (!strcmp(mode, "trap")) {
    const int vocab = 151936;
    float *logits, *probs;
    CHECK(cudaMalloc(&logits, vocab * sizeof(float)));
    CHECK(cudaMalloc(&probs, vocab * sizeof(float)));
    CHECK(cudaMemset(logits, 0, vocab * sizeof(float)));
    unsigned nan_bits = 0x7fc00000u;
    CHECK(cudaMemcpy(logits + 77777, &nan_bits, 4, cudaMemcpyHostToDevice));
    printf("[faults] decode step 1: sampling over vocab %d\n", vocab);
    fflush(stdout);
    sampling::nan_guard_softmax_kernel<float><<<(vocab + 255) / 256, 256>>>(logits, probs, vocab);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
  } else if (!strcmp(mode, "misaligned")) {
    const int rows = 4096, row_bytes = 67;
    char* packed; float* out;
    CHECK(cudaMalloc(&packed, (size_t)rows * row_bytes + 64));
    CHECK(cudaMalloc(&out, rows * sizeof(float)));
    CHECK(cudaMemset(packed, 0x11, (size_t)rows * row_bytes + 64));
    printf("[faults] loading int4 weights: %d rows x %d bytes\n", rows, row_bytes);
    fflush(stdout);
    quant::dequant_int4_rows_kernel<<<(rows + 127) / 128, 128>>>(packed, out, row_bytes, rows);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
  } else if (!strcmp(mode, "oob")) {
    const int tokens = 2049;
    float *partial, *lse; int* split;
    CHECK(cudaMalloc(&partial, tokens * sizeof(float)));
    CHECK(cudaMalloc(&lse, tokens * 4 * sizeof(float)));
    CHECK(cudaMalloc(&split, tokens * sizeof(int)));
    CHECK(cudaMemset(partial, 0, tokens * sizeof(float)));
    CHECK(cudaMemset(split, 0, tokens * sizeof(int)));
    int bad = 1 << 28;  // one token's split index is garbage
    CHECK(cudaMemcpy(split + 2048, &bad, 4, cudaMemcpyHostToDevice));
    printf("[faults] extend batch: %d tokens, 4 kv splits\n", tokens);
    fflush(stdout);
    attn::merge_attn_states_kernel<4><<<(tokens + 127) / 128, 128>>>(partial, lse, split, tokens);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
  } else if (!strcmp(mode, "race")) {
    const int n = 1 << 16;
    float *x, *out;
    CHECK(cudaMalloc(&x, n * sizeof(float)));
    CHECK(cudaMalloc(&out, n * sizeof(float)));
    CHECK(cudaMemset(x, 0, n * sizeof(float)));
    rmsnorm_tile_reduce_kernel<<<n / 256, 256>>>(x, out, n);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
  } else if (!strcmp(mode, "uninit")) {
    const int n = 4096;
    float *cache, *q;
    CHECK(cudaMalloc(&cache, n * sizeof(float)));  // never written
    CHECK(cudaMalloc(&q, n * sizeof(float)));
    CHECK(cudaMemset(q, 0, n * sizeof(float)));
    rope_cos_sin_cache_kernel<<<n / 256, 256>>>(cache, q, n);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
  } else if (!strcmp(mode, "barrier")) {
    float* v;
    CHECK(cudaMalloc(&v, 64 * sizeof(float)));
    CHECK(cudaMemset(v, 0, 64 * sizeof(float)));
    topk_partial_barrier_kernel<<<1, 64>>>(v, 64);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
  } else if (!strcmp(mode, "syncwarp")) {
    float* v;
    CHECK(cudaMalloc(&v, 64 * sizeof(float)));
    CHECK(cudaMemset(v, 0, 64 * sizeof(float)));
    warp_reduce_bad_mask_kernel<<<1, 64>>>(v);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
  } else {
    fprintf(stderr, "usage: faults trap|misaligned|oob|race|uninit|barrier|syncwarp\n");
    return 2;
  }
  printf("[faults] finished without a fault\n");
  return 0;
}
