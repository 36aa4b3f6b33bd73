// CPU Gemma RMSNorm forward/backward, one row per OpenMP iteration.
// The sum of squares is accumulated in double (close to torch's pairwise fp32 sum), then rstd is formed in fp32;
// y = (x * rstd) * (1 + w) in fp32, the multiply order of HF >= 4.39 with fp32 weights.
#include <cmath>
#include <cstdint>

#include "core/threads.h"
#include "kernels/cpu/ops.h"

namespace tune::cpu {

void rmsnorm_forward(float* y, float* rstd, const float* x, const float* w, int N, int C, float eps) {
#pragma omp parallel for if (parallel_worth(int64_t(N) * C))
  for (int n = 0; n < N; ++n) {
    const float* xr = x + int64_t(n) * C;  // [C]
    float* yr = y + int64_t(n) * C;        // [C]
    double ss = 0.0;
#pragma omp simd reduction(+ : ss)
    for (int c = 0; c < C; ++c) ss += double(xr[c]) * double(xr[c]);
    const float r = 1.0f / std::sqrt(float(ss / C) + eps);
    rstd[n] = r;
#pragma omp simd
    for (int c = 0; c < C; ++c) yr[c] = xr[c] * r * (1.0f + w[c]);
  }
}

void rmsnorm_backward(float* dx, const float* dy, const float* x, const float* w, const float* rstd, int N, int C) {
#pragma omp parallel for if (parallel_worth(int64_t(N) * C))
  for (int n = 0; n < N; ++n) {
    const float* xr = x + int64_t(n) * C;    // [C]
    const float* dyr = dy + int64_t(n) * C;  // [C]
    float* dxr = dx + int64_t(n) * C;        // [C]
    const float r = rstd[n];
    double dot = 0.0;
#pragma omp simd reduction(+ : dot)
    for (int c = 0; c < C; ++c) dot += double(dyr[c]) * double(1.0f + w[c]) * double(xr[c]);
    const float coef = float(dot * double(r) * double(r) * double(r) / C);
#pragma omp simd
    for (int c = 0; c < C; ++c) dxr[c] += r * (1.0f + w[c]) * dyr[c] - xr[c] * coef;
  }
}

}  // namespace tune::cpu
