// Scalar reference for the LM head + causal-LM cross-entropy over full (optionally soft-capped) logits, the oracle for
// cpu/cross_entropy.cpp.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/error.h"

namespace tune::ref {

// h[B,T,H], E[V,H]. Logits l = h.E^T, or c = softcap * tanh(l / softcap) when softcap > 0. Target of position t is
// labels[b, t+1]; -100 is ignored; the last position has no target. Returns the summed loss -log softmax(c)[target]
// over valid targets and writes their count to *n_valid. dh[B,T,H] += grad_scale * d(sum)/dh when dh != nullptr
// (dc/dl = 1 - tanh^2); logits[B,T,V] = c when logits != nullptr.
template <class T>
double lm_head_cross_entropy(std::type_identity_t<T>* dh, std::type_identity_t<T>* logits, const T* h, const T* E,
                             const int32_t* labels, int B, int Tn, int H, int V, std::type_identity_t<T> grad_scale,
                             int64_t* n_valid, std::type_identity_t<T> softcap = 0) {
  const int64_t N = int64_t(B) * Tn;
  std::vector<T> full(N * V);  // [B*T, V]
  for (int64_t n = 0; n < N; ++n)
    for (int v = 0; v < V; ++v) {
      T acc = 0;
      for (int c = 0; c < H; ++c) acc += h[n * H + c] * E[int64_t(v) * H + c];
      full[n * V + v] = softcap > T(0) ? softcap * std::tanh(acc / softcap) : acc;
    }
  if (logits)
    for (int64_t e = 0; e < N * V; ++e) logits[e] = full[e];
  double total = 0;
  int64_t count = 0;
  for (int b = 0; b < B; ++b)
    for (int t = 0; t + 1 < Tn; ++t) {
      const int32_t y = labels[int64_t(b) * Tn + t + 1];
      if (y == -100) continue;
      TUNE_CHECK(y >= 0 && y < V, "cross-entropy: label ", y, " at row ", b, ", position ", t + 1,
                 " is outside the vocabulary [0, ", V, "); use -100 to ignore a position");
      const T* l = full.data() + (int64_t(b) * Tn + t) * V;
      T mx = l[0];
      for (int v = 1; v < V; ++v) mx = std::max(mx, l[v]);
      T sum = 0;
      for (int v = 0; v < V; ++v) sum += std::exp(l[v] - mx);
      const T lse = mx + std::log(sum);
      total += double(lse - l[y]);
      ++count;
      if (!dh) continue;
      T* dhr = dh + (int64_t(b) * Tn + t) * H;
      for (int v = 0; v < V; ++v) {
        T dl = grad_scale * (std::exp(l[v] - lse) - (v == y ? T(1) : T(0)));
        if (softcap > T(0)) dl *= T(1) - (l[v] / softcap) * (l[v] / softcap);
        for (int c = 0; c < H; ++c) dhr[c] += dl * E[int64_t(v) * H + c];
      }
    }
  if (n_valid) *n_valid = count;
  return total;
}

}  // namespace tune::ref
