// RoPE (HF rotate_half pairing) forward and backward, in place, fp32 math.
#include "kernels/cuda/check.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/ops.h"

namespace tune::cuda {
namespace {

// One thread per (b, t, h, i < D/2) pair. sign = +1 rotates forward, -1 by the inverse (transposed) rotation.
template <class T>
__global__ void rope_kernel(T* x, const float* cos_t, const float* sin_t, int Tn, int nh, int half, int64_t pairs,
                            float sign) {
  const int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (e >= pairs) return;
  const int i = int(e % half);
  const int64_t head = e / half;  // flat (b, t, h)
  const int t = int((head / nh) % Tn);
  const float c = cos_t[int64_t(t) * half + i], s = sign * sin_t[int64_t(t) * half + i];
  T* v = x + head * 2 * half;
  const float lo = to_f32(v[i]), hi = to_f32(v[i + half]);
  v[i] = from_f32<T>(lo * c - hi * s);
  v[i + half] = from_f32<T>(hi * c + lo * s);
}

void rope(void* x, const float* cos_t, const float* sin_t, int B, int T, int nh, int D, DType t, float sign,
          cudaStream_t stream) {
  const int64_t pairs = int64_t(B) * T * nh * (D / 2);
  if (pairs == 0) return;
  dispatch_storage(t, "rope", [&](auto tag) {
    using Ty = decltype(tag);
    rope_kernel<<<blocks_for(pairs, 256), 256, 0, stream>>>(static_cast<Ty*>(x), cos_t, sin_t, T, nh, D / 2, pairs,
                                                            sign);
  });
  TUNE_CUDA_CHECK_LAUNCH();
}

}  // namespace

void rope_forward(void* x, const float* cos_t, const float* sin_t, int B, int T, int nh, int D, DType t,
                  cudaStream_t stream) {
  rope(x, cos_t, sin_t, B, T, nh, D, t, 1.0f, stream);
}

void rope_backward(void* dx, const float* cos_t, const float* sin_t, int B, int T, int nh, int D, DType t,
                   cudaStream_t stream) {
  rope(dx, cos_t, sin_t, B, T, nh, D, t, -1.0f, stream);
}

}  // namespace tune::cuda
