// torch clip_grad_norm_: per-tensor fp32 norms, the norm of those, one fp32 clip coefficient applied to all grads.
#include "train/grad_clip.h"

#include <algorithm>
#include <cmath>

namespace tune {

float grad_norm_f32(const Tensor& grad) {
  // Fixed chunks summed in a fixed order: the result does not depend on the thread count.
  constexpr int64_t kChunk = 1 << 14;
  const float* g = grad.ptr();
  const int64_t n = grad.numel();
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(chunks), 0.0);  // [chunks]
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c) {
    double s = 0.0;
    for (int64_t i = c * kChunk; i < std::min(n, (c + 1) * kChunk); ++i)
      s += static_cast<double>(g[i]) * static_cast<double>(g[i]);
    partial[static_cast<size_t>(c)] = s;
  }
  double sum_sq = 0.0;
  for (double s : partial) sum_sq += s;
  return static_cast<float>(std::sqrt(sum_sq));
}

float clip_grad_norm(const std::vector<ParamRef>& params, double max_norm) {
  double sum_sq = 0.0;  // over the fp32 per-tensor norms
  for (const ParamRef& p : params) {
    const double norm = grad_norm_f32(*p.grad);
    sum_sq += norm * norm;
  }
  const float total = static_cast<float>(std::sqrt(sum_sq));
  if (max_norm <= 0.0) return total;
  const float coef = std::min(static_cast<float>(max_norm) / (total + static_cast<float>(1e-6)), 1.0f);
  for (const ParamRef& p : params) {
    float* g = p.grad->ptr();
    const int64_t n = p.grad->numel();
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (int64_t i = 0; i < n; ++i) g[i] = g[i] * coef;
  }
  return total;
}

}  // namespace tune
