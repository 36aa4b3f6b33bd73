// Device-side helpers shared by the kernels: fp32 load/store of any storage type, block reductions, and the
// dispatch from a runtime DType to a kernel template argument.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "core/dtype.h"
#include "kernels/cuda/storage.h"

namespace tune::cuda {

__device__ __forceinline__ float to_f32(float x) { return x; }
__device__ __forceinline__ float to_f32(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_f32(__half x) { return __half2float(x); }

// fp32 -> storage type, round to nearest even.
template <class T>
__device__ __forceinline__ T from_f32(float x);
template <>
__device__ __forceinline__ float from_f32<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}
template <>
__device__ __forceinline__ __half from_f32<__half>(float x) {
  return __float2half_rn(x);
}

__device__ __forceinline__ float warp_sum(float x) {
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}
__device__ __forceinline__ float warp_max(float x) {
  for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
  return x;
}

// Sum / max of one value per thread over the block (blockDim.x a multiple of 32, at most 1024); every thread gets
// the result. Uses 32 floats of shared memory; safe to call repeatedly.
__device__ __forceinline__ float block_sum(float x) {
  __shared__ float part[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  x = warp_sum(x);
  __syncthreads();  // an earlier call's readers are done with part[]
  if (lane == 0) part[warp] = x;
  __syncthreads();
  x = lane < warps ? part[lane] : 0.0f;
  return warp_sum(x);
}
__device__ __forceinline__ float block_max(float x) {
  __shared__ float part[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  x = warp_max(x);
  __syncthreads();
  if (lane == 0) part[warp] = x;
  __syncthreads();
  x = lane < warps ? part[lane] : -INFINITY;
  return warp_max(x);
}

// Calls f(T{}) with T = float, __nv_bfloat16 or __half for t; other dtypes are a tune::Error naming op.
template <class F>
void dispatch_storage(DType t, const char* op, F&& f) {
  storage_bytes(t, op);  // throws for unsupported types
  if (t == DType::F32)
    f(float{});
  else if (t == DType::BF16)
    f(__nv_bfloat16{});
  else
    f(__half{});
}

inline unsigned blocks_for(int64_t n, int threads) { return static_cast<unsigned>((n + threads - 1) / threads); }

}  // namespace tune::cuda
