// GeGLU h = gelu(gate) * up and its backward, tanh or erf GELU, fp32 math.
#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/ops.h"

namespace tune::cuda {
namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;

// gelu(x) and d gelu / dx, as kernels/reference/geglu_ref.h.
template <bool kTanh>
__device__ __forceinline__ void gelu_and_grad(float x, float* y, float* dy) {
  if constexpr (kTanh) {
    const float t = tanhf(kSqrt2OverPi * (x + 0.044715f * x * x * x));
    *y = 0.5f * x * (1.0f + t);
    *dy = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * x * x);
  } else {
    const float cdf = 0.5f * (1.0f + erff(x * kInvSqrt2));
    *y = x * cdf;
    *dy = cdf + x * expf(-0.5f * x * x) * kInvSqrt2Pi;
  }
}

template <class T, bool kTanh>
__global__ void geglu_forward_kernel(T* h, const T* gate, const T* up, int64_t n) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    float g, dg;
    gelu_and_grad<kTanh>(to_f32(gate[e]), &g, &dg);
    h[e] = from_f32<T>(g * to_f32(up[e]));
  }
}

template <class T, bool kTanh>
__global__ void geglu_backward_kernel(T* dgate, T* dup, const T* dh, const T* gate, const T* up, int64_t n) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    float g, dg;
    gelu_and_grad<kTanh>(to_f32(gate[e]), &g, &dg);
    const float d = to_f32(dh[e]);
    dgate[e] = from_f32<T>(d * to_f32(up[e]) * dg);
    dup[e] = from_f32<T>(d * g);
  }
}

unsigned grid_for(int64_t n) { return static_cast<unsigned>(n < 256 * 65535 ? (n + 255) / 256 : 65535); }

}  // namespace

void geglu_forward(void* h, const void* gate, const void* up, int64_t n, Activation act, DType t, cudaStream_t stream) {
  TUNE_CHECK(act != Activation::Silu, "cuda geglu_forward: SiLU is not in the CUDA op set yet");
  if (n == 0) return;
  dispatch_storage(t, "geglu_forward", [&](auto tag) {
    using T = decltype(tag);
    auto* o = static_cast<T*>(h);
    auto* g = static_cast<const T*>(gate);
    auto* u = static_cast<const T*>(up);
    if (act == Activation::GeluTanh)
      geglu_forward_kernel<T, true><<<grid_for(n), 256, 0, stream>>>(o, g, u, n);
    else
      geglu_forward_kernel<T, false><<<grid_for(n), 256, 0, stream>>>(o, g, u, n);
  });
  TUNE_CUDA_CHECK_LAUNCH();
}

void geglu_backward(void* dgate, void* dup, const void* dh, const void* gate, const void* up, int64_t n, Activation act,
                    DType t, cudaStream_t stream) {
  TUNE_CHECK(act != Activation::Silu, "cuda geglu_backward: SiLU is not in the CUDA op set yet");
  if (n == 0) return;
  dispatch_storage(t, "geglu_backward", [&](auto tag) {
    using T = decltype(tag);
    auto* dg = static_cast<T*>(dgate);
    auto* du = static_cast<T*>(dup);
    auto* d = static_cast<const T*>(dh);
    auto* g = static_cast<const T*>(gate);
    auto* u = static_cast<const T*>(up);
    if (act == Activation::GeluTanh)
      geglu_backward_kernel<T, true><<<grid_for(n), 256, 0, stream>>>(dg, du, d, g, u, n);
    else
      geglu_backward_kernel<T, false><<<grid_for(n), 256, 0, stream>>>(dg, du, d, g, u, n);
  });
  TUNE_CUDA_CHECK_LAUNCH();
}

}  // namespace tune::cuda
