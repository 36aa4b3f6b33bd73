// AdamW on fp32 master parameters, deterministic sums of squares for the global gradient norm, and the loss scaler's
// unscale + inf/NaN check. Explicit _rn intrinsics keep nvcc from fusing what torch rounds separately.
#include <cmath>

#include "kernels/cuda/buffer.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/train_ops.h"

namespace tune::cuda {
namespace {

constexpr int kThreads = 256;

unsigned grid_for(int64_t n) {
  return static_cast<unsigned>(n < kThreads * 65535LL ? (n + kThreads - 1) / kThreads : 65535);
}

// torch's CPU lerp(start, end, w): fma(w, end - start, start) for |w| < 0.5, else fma(w - 1, end - start, end).
__device__ __forceinline__ float torch_lerp(float start, float end, float w) {
  const float diff = __fsub_rn(end, start);
  return fabsf(w) < 0.5f ? __fmaf_rn(w, diff, start) : __fmaf_rn(__fsub_rn(w, 1.0f), diff, end);
}

__global__ void adamw_kernel(float* theta, const float* grad, float* m, float* v, int64_t n, AdamWScalars k) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float g = grad[i];
    const float th = k.decay_factor != 1.0f ? __fmul_rn(theta[i], k.decay_factor) : theta[i];
    const float mi = torch_lerp(m[i], g, k.lerp_weight);
    const float vi = __fmaf_rn(__fmul_rn(k.one_minus_beta2, g), g, __fmul_rn(v[i], k.beta2));
    const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), k.bias_correction2_sqrt), k.eps);
    m[i] = mi;
    v[i] = vi;
    theta[i] = __fadd_rn(th, __fdiv_rn(__fmul_rn(k.neg_step_size, mi), denom));
  }
}

// grid (kSumSquaresBlocks): partials[block] = sum of x[i]^2 over the block's grid-stride share, in double.
__global__ void sum_squares_partial_kernel(double* partials, const float* x, int64_t n) {
  __shared__ double part[kThreads];
  double acc = 0.0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    acc += double(x[i]) * double(x[i]);
  part[threadIdx.x] = acc;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) partials[blockIdx.x] = part[0];
}

// one thread: out[0] = sum of partials in index order.
__global__ void sum_partials_kernel(double* out, const double* partials, int count) {
  double s = 0.0;
  for (int b = 0; b < count; ++b) s += partials[b];
  out[0] = s;
}

__global__ void scale_and_check_kernel(float* g, int64_t n, float factor, int* found_nonfinite) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float x = g[i];
    if (!isfinite(x)) *found_nonfinite = 1;
    g[i] = __fmul_rn(x, factor);
  }
}

}  // namespace

AdamWScalars adamw_scalars(double beta1, double beta2, double eps, double weight_decay, bool decay, int64_t step,
                           double lr) {
  const double t = static_cast<double>(step);
  AdamWScalars k{};
  k.decay_factor = 1.0f;
  if (decay && weight_decay != 0.0) {
    const volatile double lr_decay = lr * weight_decay;  // rounded before the subtraction, as Python does
    k.decay_factor = static_cast<float>(1.0 - lr_decay);
  }
  k.lerp_weight = static_cast<float>(1.0 - beta1);
  k.beta2 = static_cast<float>(beta2);
  k.one_minus_beta2 = static_cast<float>(1.0 - beta2);
  k.neg_step_size = static_cast<float>(-(lr / (1.0 - std::pow(beta1, t))));
  k.bias_correction2_sqrt = static_cast<float>(std::pow(1.0 - std::pow(beta2, t), 0.5));
  k.eps = static_cast<float>(eps);
  return k;
}

void adamw_step(float* theta, const float* grad, float* m, float* v, int64_t n, const AdamWScalars& k,
                cudaStream_t stream) {
  if (n == 0) return;
  adamw_kernel<<<grid_for(n), kThreads, 0, stream>>>(theta, grad, m, v, n, k);
  TUNE_CUDA_CHECK_LAUNCH();
}

void sum_squares(double* out, const float* x, int64_t n, double* partials, cudaStream_t stream) {
  sum_squares_partial_kernel<<<kSumSquaresBlocks, kThreads, 0, stream>>>(partials, x, n);
  TUNE_CUDA_CHECK_LAUNCH();
  sum_partials_kernel<<<1, 1, 0, stream>>>(out, partials, kSumSquaresBlocks);
  TUNE_CUDA_CHECK_LAUNCH();
}

float global_grad_norm(const std::vector<GradSpan>& grads, cudaStream_t stream) {
  if (grads.empty()) return 0.0f;
  DeviceBuffer<double> partials(kSumSquaresBlocks, "grad-norm scratch");
  DeviceBuffer<double> sums(grads.size(), "grad-norm sums");  // [tensors]
  for (size_t k = 0; k < grads.size(); ++k)
    sum_squares(sums.get() + k, grads[k].data, grads[k].n, partials.get(), stream);
  TUNE_CUDA_CHECK(cudaStreamSynchronize(stream));
  double sum_sq = 0.0;  // over the fp32 per-tensor norms, as train/grad_clip.cpp
  for (const double s : sums.download()) {
    const double norm = static_cast<float>(std::sqrt(s));
    sum_sq += norm * norm;
  }
  return static_cast<float>(std::sqrt(sum_sq));
}

void scale_and_check(float* g, int64_t n, float factor, int* found_nonfinite, cudaStream_t stream) {
  if (n == 0) return;
  scale_and_check_kernel<<<grid_for(n), kThreads, 0, stream>>>(g, n, factor, found_nonfinite);
  TUNE_CUDA_CHECK_LAUNCH();
}

}  // namespace tune::cuda
