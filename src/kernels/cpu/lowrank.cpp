// CPU low-rank matmuls for the LoRA branch, where one side is a thin [r, K] factor: sgemm's packing and threading cost
// more than the arithmetic at these shapes, so small ranks take parallel SIMD loops that work on 4 rows at a time
// (one load of the thin factor feeds 4 FMAs); ranks above kMaxLoopRank go to sgemm. (The rank-r update y += u.b has
// no such variant: sgemm is as fast there.)
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/threads.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/ops.h"

namespace tune::cpu {

namespace {

constexpr int kMaxLoopRank = 32;
constexpr int kRowBlock = 4;
// Columns per tile of g: an [r, 128] tile stays in L1 while all rows stream past, and K = 512 still makes 4 tiles.
constexpr int kColTile = 128;

// dot(x, a) over K, fused multiply-adds.
inline float dot(const float* x, const float* a, int K) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int k = 0; k < K; ++k) s = std::fma(x[k], a[k], s);
  return s;
}

}  // namespace

void lowrank_down(float* u, const float* x, const float* a, int N, int K, int r, float alpha) {
  if (N == 0 || r == 0) return;
  if (r > kMaxLoopRank || K == 0) {
    linear_forward(u, x, a, N, K, r, alpha, false);
    return;
  }
#pragma omp parallel for schedule(static) if (parallel_worth(int64_t(N) * K * r))
  for (int n0 = 0; n0 < N; n0 += kRowBlock) {
    const float* x0 = x + int64_t(n0) * K;  // [rows, K]
    float* u0 = u + int64_t(n0) * r;        // [rows, r]
    if (N - n0 < kRowBlock) {
      for (int i = 0; n0 + i < N; ++i)
        for (int j = 0; j < r; ++j) u0[i * r + j] = alpha * dot(x0 + int64_t(i) * K, a + int64_t(j) * K, K);
      continue;
    }
    const float *x1 = x0 + K, *x2 = x1 + K, *x3 = x2 + K;
    for (int j = 0; j < r; ++j) {
      const float* aj = a + int64_t(j) * K;  // [K]
      float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
      for (int k = 0; k < K; ++k) {
        s0 = std::fma(x0[k], aj[k], s0);
        s1 = std::fma(x1[k], aj[k], s1);
        s2 = std::fma(x2[k], aj[k], s2);
        s3 = std::fma(x3[k], aj[k], s3);
      }
      u0[j] = alpha * s0;
      u0[r + j] = alpha * s1;
      u0[2 * r + j] = alpha * s2;
      u0[3 * r + j] = alpha * s3;
    }
  }
}

void lowrank_outer_add(float* g, const float* u, const float* x, int N, int r, int K, float alpha) {
  if (N == 0 || r == 0 || K == 0) return;
  if (r > kMaxLoopRank) {
    sgemm(true, false, r, K, N, alpha, u, r, x, K, 1.0f, g, K);
    return;
  }
  // Column tiles are independent: each thread sums whole [r, tile] blocks over all rows, then adds alpha * sum to g.
  const int tiles = (K + kColTile - 1) / kColTile;
#pragma omp parallel for schedule(static) if (parallel_worth(int64_t(N) * K * r))
  for (int t = 0; t < tiles; ++t) {
    const int k0 = t * kColTile, w = std::min(kColTile, K - k0);
    float acc[kMaxLoopRank * kColTile];  // [r, w]
    std::fill_n(acc, r * w, 0.0f);
    for (int n0 = 0; n0 < N; n0 += kRowBlock) {
      const float* u0 = u + int64_t(n0) * r;       // [rows, r]
      const float* x0 = x + int64_t(n0) * K + k0;  // [rows, w] with row stride K
      if (N - n0 < kRowBlock) {
        for (int i = 0; n0 + i < N; ++i)
          for (int j = 0; j < r; ++j) {
            const float c = u0[i * r + j];
            const float* xi = x0 + int64_t(i) * K;
            float* aj = acc + j * w;
#pragma omp simd
            for (int k = 0; k < w; ++k) aj[k] = std::fma(c, xi[k], aj[k]);
          }
        continue;
      }
      const float *x1 = x0 + K, *x2 = x1 + K, *x3 = x2 + K;
      for (int j = 0; j < r; ++j) {
        const float c0 = u0[j], c1 = u0[r + j], c2 = u0[2 * r + j], c3 = u0[3 * r + j];
        float* aj = acc + j * w;
#pragma omp simd
        for (int k = 0; k < w; ++k)
          aj[k] = std::fma(c3, x3[k], std::fma(c2, x2[k], std::fma(c1, x1[k], std::fma(c0, x0[k], aj[k]))));
      }
    }
    for (int j = 0; j < r; ++j) {
      float* gj = g + int64_t(j) * K + k0;  // [w]
#pragma omp simd
      for (int k = 0; k < w; ++k) gj[k] += alpha * acc[j * w + k];
    }
  }
}

}  // namespace tune::cpu
