// Element-wise ops: dtype conversion and the in-place residual add.
#include <algorithm>

#include "kernels/cuda/check.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/ops.h"

namespace tune::cuda {
namespace {

constexpr int kThreads = 256;

template <class To, class From>
__global__ void convert_kernel(To* dst, const From* src, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = from_f32<To>(to_f32(src[i]));
}

template <class T>
__global__ void add_kernel(T* y, const T* x, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = from_f32<T>(to_f32(y[i]) + to_f32(x[i]));
}

unsigned grid_for(int64_t n) { return static_cast<unsigned>(std::min<int64_t>((n + kThreads - 1) / kThreads, 65535)); }

}  // namespace

void convert(void* dst, DType dst_t, const void* src, DType src_t, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  dispatch_storage(dst_t, "convert", [&](auto to) {
    dispatch_storage(src_t, "convert", [&](auto from) {
      using To = decltype(to);
      using From = decltype(from);
      convert_kernel<<<grid_for(n), kThreads, 0, stream>>>(static_cast<To*>(dst), static_cast<const From*>(src), n);
    });
  });
  TUNE_CUDA_CHECK_LAUNCH();
}

void add_inplace(void* y, const void* x, int64_t n, DType t, cudaStream_t stream) {
  if (n == 0) return;
  dispatch_storage(t, "add_inplace", [&](auto tag) {
    using T = decltype(tag);
    add_kernel<<<grid_for(n), kThreads, 0, stream>>>(static_cast<T*>(y), static_cast<const T*>(x), n);
  });
  TUNE_CUDA_CHECK_LAUNCH();
}

}  // namespace tune::cuda
