// Scalar reference for the per-row LM-head log-likelihoods and logit sums, the oracle for cpu/lm_head_logps.cpp.
#pragma once
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/reference/cross_entropy_ref.h"

namespace tune::ref {

// As cpu::lm_head_row_logps: logp_sum[b] = Σ log-prob of row b's targets; dlogp[B,T,H] += d logp_sum[b]/dh[b].
template <class T>
void lm_head_row_logps(double* logp_sum, int64_t* n_valid, std::type_identity_t<T>* dlogp, const T* h, const T* E,
                       const int32_t* labels, int B, int Tn, int H, int V) {
  const int64_t row = int64_t(Tn) * H;
  for (int b = 0; b < B; ++b)
    logp_sum[b] = -lm_head_cross_entropy<T>(dlogp ? dlogp + b * row : nullptr, nullptr, h + b * row, E,
                                            labels + int64_t(b) * Tn, 1, Tn, H, V, T(-1), &n_valid[b]);
}

// sums[b] = Σ_t Σ_v h[b,t] . E[v], from the full logits.
template <class T>
void lm_head_logit_sums(double* sums, const T* h, const T* E, int B, int Tn, int H, int V) {
  for (int b = 0; b < B; ++b) {
    double acc = 0;
    for (int t = 0; t < Tn; ++t)
      for (int v = 0; v < V; ++v) {
        T logit = 0;
        for (int c = 0; c < H; ++c) logit += h[(int64_t(b) * Tn + t) * H + c] * E[int64_t(v) * H + c];
        acc += double(logit);
      }
    sums[b] = acc;
  }
}

}  // namespace tune::ref
