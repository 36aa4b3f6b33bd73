// CPU per-row sequence log-likelihoods under the tied LM head (what DPO compares) and per-row logit sums (TRL's
// logits/* metrics), without the [B, T, V] logits ever existing at once.
#pragma once
#include <cstdint>

#include "kernels/cpu/ops.h"

namespace tune::cpu {

// h[B,T,H] (final-normed), E[V,H], labels[B,T]: the target of position t is labels[b, t+1], -100 is ignored.
// logp_sum[B] = Σ_t log softmax(h[b,t] . E^T)[target], n_valid[B] = the number of targets of row b.
// When dlogp != nullptr: dlogp[B,T,H] += d logp_sum[b] / dh[b] (each row with weight 1).
// One lm_head_cross_entropy pass per row (chunked over the row's targets); scratch as there.
void lm_head_row_logps(double* logp_sum, int64_t* n_valid, float* dlogp, const float* h, const float* E,
                       const int32_t* labels, int B, int T, int H, int V, LmHeadScratch* scratch = nullptr);

// sums[B] = Σ_t Σ_v h[b,t] . E[v] over every position (padding included) = Σ_t h[b,t] . (Σ_v E[v]).
void lm_head_logit_sums(double* sums, const float* h, const float* E, int B, int T, int H, int V);

// dst[B,T,H] += w[b] * src[B,T,H] per row b.
void add_row_scaled(float* dst, const float* src, const double* w, int B, int T, int H);

}  // namespace tune::cpu
