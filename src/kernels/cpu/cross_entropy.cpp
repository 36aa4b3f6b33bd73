// CPU tied LM head + causal-LM cross-entropy, chunked over the positions that have a target so that the [N, V]
// logits never exist at once: per chunk, gather h rows, logits via sgemm, row-wise log-sum-exp (SIMD exp, double sums),
// dlogits = grad_scale * (softmax - onehot) in place, dh rows += dlogits . E via sgemm.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/error.h"
#include "core/threads.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/vec_math.h"

namespace tune::cpu {

namespace {

// Rows per chunk: as many as fit kChunkFloats logits, within [128, 512] (sgemm efficiency grows with the row count up to
// a few hundred rows). Scratch is 64 MiB at most for V <= 131072, and 131 MB for V = 256000.
constexpr int64_t kChunkFloats = int64_t(1) << 24;
constexpr int64_t kMinChunkRows = 128, kMaxChunkRows = 512;

// One row of logits l[V] (scratch) with target y: returns -log softmax(l)[y]. When want_grad, leaves
// grad_scale * (softmax(l) - onehot(y)) in l.
double row_loss(float* l, int V, int32_t y, float grad_scale, bool want_grad) {
  float mx = l[0];
#pragma omp simd reduction(max : mx)
  for (int v = 0; v < V; ++v) mx = l[v] > mx ? l[v] : mx;
  const double target_shifted = double(l[y] - mx);
#pragma omp simd
  for (int v = 0; v < V; ++v) l[v] = vec::exp(l[v] - mx);
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (int v = 0; v < V; ++v) sum += l[v];
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
                             int T, int H, int V, float grad_scale, int64_t* n_valid, LmHeadScratch* scratch) {
  const int64_t N = int64_t(B) * T;
  if (logits) linear_forward(logits, h, E, int(N), H, V, 1.0f, false);
  LmHeadScratch local;
  LmHeadScratch& s = scratch ? *scratch : local;

  s.rows.clear();
  s.targets.clear();
  for (int b = 0; b < B; ++b)
    for (int t = 0; t + 1 < T; ++t) {
      const int32_t y = labels[int64_t(b) * T + t + 1];
      if (y == -100) continue;
      TUNE_CHECK(y >= 0 && y < V, "cross-entropy: label ", y, " at row ", b, ", position ", t + 1,
                 " is outside the vocabulary [0, ", V, "); use -100 to ignore a position");
      s.rows.push_back(int64_t(b) * T + t);
      s.targets.push_back(y);
    }
  const int64_t n = int64_t(s.rows.size());
  if (n_valid) *n_valid = n;
  if (n == 0) return 0.0;

  const int64_t R = std::min(std::clamp(kChunkFloats / V, kMinChunkRows, kMaxChunkRows), n);
  s.h.resize(size_t(R * H));
  s.logits.resize(size_t(R * V));
  if (dh) s.dh.resize(size_t(R * H));
  s.losses.resize(size_t(n));
  const int64_t* rows = s.rows.data();
  float *hc = s.h.data(), *lc = s.logits.data(), *dhc = s.dh.data();
  for (int64_t c0 = 0; c0 < n; c0 += R) {
    const int m = int(std::min(R, n - c0));
#pragma omp parallel for if (parallel_worth(int64_t(m) * H))
    for (int r = 0; r < m; ++r) std::memcpy(hc + int64_t(r) * H, h + rows[c0 + r] * H, sizeof(float) * H);
    linear_forward(lc, hc, E, m, H, V, 1.0f, false);
#pragma omp parallel for if (parallel_worth(int64_t(m) * V))
    for (int r = 0; r < m; ++r)
      s.losses[c0 + r] = row_loss(lc + int64_t(r) * V, V, s.targets[c0 + r], grad_scale, dh != nullptr);
    if (!dh) continue;
    linear_backward_input(dhc, lc, E, m, H, V, 1.0f, false);
#pragma omp parallel for if (parallel_worth(int64_t(m) * H))
    for (int r = 0; r < m; ++r) {
      float* dst = dh + rows[c0 + r] * H;       // [H]
      const float* src = dhc + int64_t(r) * H;  // [H]
#pragma omp simd
      for (int c = 0; c < H; ++c) dst[c] += src[c];
    }
  }
  double total = 0.0;  // summed in order for determinism
  for (int64_t i = 0; i < n; ++i) total += s.losses[i];
  return total;
}

}  // namespace tune::cpu
