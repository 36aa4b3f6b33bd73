// Gemma RMSNorm forward/backward, one block per row, fp32 math.
#include "kernels/cuda/check.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/ops.h"

namespace tune::cuda {
namespace {

constexpr int kThreads = 256;

// grid (N): y[n,:] = x * r * (1 + w), rstd[n] = r.
template <class T>
__global__ void rmsnorm_forward_kernel(T* y, float* rstd, const T* x, const T* w, int C, float eps) {
  const int64_t off = int64_t(blockIdx.x) * C;
  float ss = 0.0f;
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    const float v = to_f32(x[off + c]);
    ss += v * v;
  }
  ss = block_sum(ss);
  const float r = rsqrtf(ss / float(C) + eps);
  if (threadIdx.x == 0) rstd[blockIdx.x] = r;
  for (int c = threadIdx.x; c < C; c += blockDim.x)
    y[off + c] = from_f32<T>(to_f32(x[off + c]) * r * (1.0f + to_f32(w[c])));
}

// grid (N): dx += r g dy - x r^3/C sum(dy g x), g = 1 + w.
template <class T>
__global__ void rmsnorm_backward_kernel(T* dx, const T* dy, const T* x, const T* w, const float* rstd, int C) {
  const int64_t off = int64_t(blockIdx.x) * C;
  const float r = rstd[blockIdx.x];
  float dot = 0.0f;
  for (int c = threadIdx.x; c < C; c += blockDim.x)
    dot += to_f32(dy[off + c]) * (1.0f + to_f32(w[c])) * to_f32(x[off + c]);
  dot = block_sum(dot);
  const float k = r * r * r / float(C) * dot;
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    const float g = 1.0f + to_f32(w[c]);
    dx[off + c] = from_f32<T>(to_f32(dx[off + c]) + r * g * to_f32(dy[off + c]) - to_f32(x[off + c]) * k);
  }
}

}  // namespace

void rmsnorm_forward(void* y, float* rstd, const void* x, const void* w, int N, int C, float eps, DType t,
                     cudaStream_t stream) {
  if (N == 0) return;
  dispatch_storage(t, "rmsnorm_forward", [&](auto tag) {
    using T = decltype(tag);
    rmsnorm_forward_kernel<<<N, kThreads, 0, stream>>>(static_cast<T*>(y), rstd, static_cast<const T*>(x),
                                                       static_cast<const T*>(w), C, eps);
  });
  TUNE_CUDA_CHECK_LAUNCH();
}

void rmsnorm_backward(void* dx, const void* dy, const void* x, const void* w, const float* rstd, int N, int C, DType t,
                      cudaStream_t stream) {
  if (N == 0) return;
  dispatch_storage(t, "rmsnorm_backward", [&](auto tag) {
    using T = decltype(tag);
    rmsnorm_backward_kernel<<<N, kThreads, 0, stream>>>(static_cast<T*>(dx), static_cast<const T*>(dy),
                                                        static_cast<const T*>(x), static_cast<const T*>(w), rstd, C);
  });
  TUNE_CUDA_CHECK_LAUNCH();
}

}  // namespace tune::cuda
