// CPU per-row log-likelihoods and logit sums of the tied LM head (see lm_head_logps.h).
#include "kernels/cpu/lm_head_logps.h"

#include <vector>

#include "core/threads.h"

namespace tune::cpu {

void lm_head_row_logps(double* logp_sum, int64_t* n_valid, float* dlogp, const float* h, const float* E,
                       const int32_t* labels, int B, int T, int H, int V, LmHeadScratch* scratch) {
  LmHeadScratch local;
  LmHeadScratch& s = scratch ? *scratch : local;
  const int64_t row = int64_t(T) * H;
  for (int b = 0; b < B; ++b) {
    // Cross-entropy is -log p, so a gradient scale of -1 gives d(Σ log p)/dh.
    const double loss = lm_head_cross_entropy(dlogp ? dlogp + b * row : nullptr, nullptr, h + b * row, E,
                                              labels + int64_t(b) * T, 1, T, H, V, -1.0f, &n_valid[b], &s);
    logp_sum[b] = -loss;
  }
}

void lm_head_logit_sums(double* sums, const float* h, const float* E, int B, int T, int H, int V) {
  std::vector<double> e_sum(size_t(H), 0.0);  // [H] Σ_v E[v]
  for (int v = 0; v < V; ++v)
    for (int c = 0; c < H; ++c) e_sum[size_t(c)] += E[int64_t(v) * H + c];
#pragma omp parallel for if (parallel_worth(int64_t(B) * T * H))
  for (int b = 0; b < B; ++b) {
    double acc = 0.0;
    for (int t = 0; t < T; ++t) {
      const float* x = h + (int64_t(b) * T + t) * H;  // [H]
      for (int c = 0; c < H; ++c) acc += double(x[c]) * e_sum[size_t(c)];
    }
    sums[b] = acc;
  }
}

void add_row_scaled(float* dst, const float* src, const double* w, int B, int T, int H) {
  const int64_t row = int64_t(T) * H;
#pragma omp parallel for if (parallel_worth(int64_t(B) * row))
  for (int b = 0; b < B; ++b) {
    const float wb = float(w[b]);
    float* d = dst + b * row;
    const float* s = src + b * row;
#pragma omp simd
    for (int64_t i = 0; i < row; ++i) d[i] += wb * s[i];
  }
}

}  // namespace tune::cpu
