// The CUDA optimizer-side ops on fp32 master parameters and gradients: AdamW, the global gradient norm, and the loss
// scaler's unscale + inf/NaN check (train/adamw.h, train/grad_clip.h and train/loss_scaler.h are the references).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>
#include <vector>

namespace tune::cuda {

// The fp32 scalars of one torch AdamW update, derived in double exactly as train/adamw.cpp does.
struct AdamWScalars {
  float decay_factor;  // fp32(1 - lr*weight_decay); 1 when the tensor is not decayed
  float lerp_weight;   // fp32(1 - beta1)
  float beta2;         // fp32(beta2)
  float one_minus_beta2;
  float neg_step_size;          // fp32(-lr / (1 - beta1^t))
  float bias_correction2_sqrt;  // fp32((1 - beta2^t)^0.5)
  float eps;
};
// For update number `step` (1-based, after incrementing) with learning rate lr; weight_decay applies when decay.
AdamWScalars adamw_scalars(double beta1, double beta2, double eps, double weight_decay, bool decay, int64_t step,
                           double lr);

// One AdamW update of theta[n], m[n], v[n] (fp32) from grad[n] (fp32), in torch's order and roundings:
// theta *= decay_factor; m = lerp(m, g, 1-beta1); v = fma((1-beta2) g, g, v beta2);
// theta = theta + (neg_step_size m) / (sqrt(v) / bc2_sqrt + eps).
void adamw_step(float* theta, const float* grad, float* m, float* v, int64_t n, const AdamWScalars& k,
                cudaStream_t stream = 0);

// Scratch length (doubles) that sum_squares needs.
constexpr int kSumSquaresBlocks = 264;
// out[0] (double) = sum x[i]^2 over x[n] fp32, accumulated in double in a fixed order (deterministic).
// partials[kSumSquaresBlocks] double: scratch.
void sum_squares(double* out, const float* x, int64_t n, double* partials, cudaStream_t stream = 0);

struct GradSpan {
  const float* data;  // device
  int64_t n;
};
// torch clip_grad_norm_'s total norm: fp32(sqrt(sum of fp32 per-tensor norms squared)), each per-tensor norm
// fp32(sqrt(sum of squares in double)) as train/grad_clip.cpp. Waits for the device (the norm is needed on the host).
float global_grad_norm(const std::vector<GradSpan>& grads, cudaStream_t stream = 0);

// g[n] *= factor (fp32 product); *found_nonfinite (device int) is set to 1 when any g[i] was inf or NaN (never
// cleared here). Loss scaling: factor = fp32(1 / scale); gradient clipping: the clip coefficient.
void scale_and_check(float* g, int64_t n, float factor, int* found_nonfinite, cudaStream_t stream = 0);

}  // namespace tune::cuda
