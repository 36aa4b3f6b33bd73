// CPU tied LM head + causal-LM cross-entropy, chunked over the positions that have a target so that the [N, V]
// logits never exist at once: per chunk, gather h rows, logits via sgemm, row-wise log-sum-exp (double sums),
// dlogits = grad_scale * (softmax - onehot) in place, dh rows += dlogits . E via sgemm.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/ops.h"

namespace tune::cpu {

namespace {

constexpr int64_t kChunkRows = 128;  // logits scratch is kChunkRows * V floats (131 MB for V = 256000)

// One row of logits l[V] with target y: returns -log softmax(l)[y]. When want_grad, overwrites l with
// grad_scale * (softmax(l) - onehot(y)).
double row_loss(float* l, int V, int32_t y, float grad_scale, bool want_grad) {
  float mx = l[0];
#pragma omp simd reduction(max : mx)
  for (int v = 0; v < V; ++v) mx = l[v] > mx ? l[v] : mx;
  const double target_shifted = double(l[y] - mx);
  double sum = 0.0;
  for (int v = 0; v < V; ++v) {
    const float e = std::exp(l[v] - mx);
    if (want_grad) l[v] = e;
    sum += e;
  }
  if (want_grad) {
    const float scale = float(double(grad_scale) / sum);
#pragma omp simd
    for (int v = 0; v < V; ++v) l[v] *= scale;
    l[y] -= grad_scale;
  }
  return std::log(sum) - target_shifted;
}

}  // namespace

double lm_head_cross_entropy(float* dh, float* logits, const float* h, const float* E, const int32_t* labels, int B,
                             int T, int H, int V, float grad_scale, int64_t* n_valid) {
  const int64_t N = int64_t(B) * T;
  if (logits) linear_forward(logits, h, E, int(N), H, V, 1.0f, false);

  std::vector<int64_t> rows;    // flat position b*T + t of each valid target
  std::vector<int32_t> target;  // its label
  for (int b = 0; b < B; ++b)
    for (int t = 0; t + 1 < T; ++t) {
      const int32_t y = labels[int64_t(b) * T + t + 1];
      if (y == -100) continue;
      TUNE_CHECK(y >= 0 && y < V, "cross-entropy: label ", y, " at row ", b, ", position ", t + 1,
                 " is outside the vocabulary [0, ", V, "); use -100 to ignore a position");
      rows.push_back(int64_t(b) * T + t);
      target.push_back(y);
    }
  const int64_t n = int64_t(rows.size());
  if (n_valid) *n_valid = n;
  if (n == 0) return 0.0;

  const int64_t R = std::min(kChunkRows, n);
  std::vector<float> hc(R * H);            // [R, H] gathered h rows
  std::vector<float> lc(R * V);            // [R, V] logits, then dlogits
  std::vector<float> dhc(dh ? R * H : 0);  // [R, H] dh of the chunk
  std::vector<double> losses(n);           // [n] per-target loss, summed in order for determinism
  for (int64_t c0 = 0; c0 < n; c0 += R) {
    const int m = int(std::min(R, n - c0));
#pragma omp parallel for
    for (int r = 0; r < m; ++r) std::memcpy(hc.data() + int64_t(r) * H, h + rows[c0 + r] * H, sizeof(float) * H);
    linear_forward(lc.data(), hc.data(), E, m, H, V, 1.0f, false);
#pragma omp parallel for
    for (int r = 0; r < m; ++r)
      losses[c0 + r] = row_loss(lc.data() + int64_t(r) * V, V, target[c0 + r], grad_scale, dh != nullptr);
    if (!dh) continue;
    linear_backward_input(dhc.data(), lc.data(), E, m, H, V, 1.0f, false);
#pragma omp parallel for
    for (int r = 0; r < m; ++r) {
      float* dst = dh + rows[c0 + r] * H;              // [H]
      const float* src = dhc.data() + int64_t(r) * H;  // [H]
#pragma omp simd
      for (int c = 0; c < H; ++c) dst[c] += src[c];
    }
  }
  double total = 0.0;
  for (double l : losses) total += l;
  return total;
}

}  // namespace tune::cpu
