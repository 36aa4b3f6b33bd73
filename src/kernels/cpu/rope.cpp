// CPU RoPE (HF rotate_half convention: dim i pairs with i + D/2): fp32 tables as HF builds them, in-place rotation.
#include <cmath>
#include <cstdint>

#include "core/error.h"
#include "core/threads.h"
#include "kernels/cpu/ops.h"

namespace tune::cpu {

void rope_tables(float* cos_t, float* sin_t, int T, int D, double theta) {
  TUNE_CHECK(D > 0 && D % 2 == 0, "rope: head_dim ", D, " must be positive and even; check head_dim in config.json");
  const int half = D / 2;
#pragma omp parallel for if (parallel_worth(int64_t(T) * half))
  for (int p = 0; p < T; ++p)
    for (int i = 0; i < half; ++i) {
      // HF: inv_freq = 1.0 / (base ** (arange(0, D, 2).float() / D)) and angle = pos.float() * inv_freq, all fp32.
      const float inv_freq = 1.0f / std::pow(float(theta), float(2 * i) / float(D));
      const float angle = float(p) * inv_freq;
      cos_t[int64_t(p) * half + i] = std::cos(angle);
      sin_t[int64_t(p) * half + i] = std::sin(angle);
    }
}

// Rotates every [D] vector of x[B,T,nh,D] by the angles of its row t; sign = +1 forward, -1 for the inverse.
static void rotate(float* x, const float* cos_t, const float* sin_t, int B, int T, int nh, int D, float sign) {
  const int half = D / 2;
#pragma omp parallel for if (parallel_worth(int64_t(B) * T * nh * D))
  for (int64_t bt = 0; bt < int64_t(B) * T; ++bt) {
    const int t = int(bt % T);
    const float* c = cos_t + int64_t(t) * half;  // [D/2]
    const float* s = sin_t + int64_t(t) * half;  // [D/2]
    for (int h = 0; h < nh; ++h) {
      float* lo = x + (bt * nh + h) * D;  // [D/2] first half
      float* hi = lo + half;              // [D/2] second half
#pragma omp simd
      for (int i = 0; i < half; ++i) {
        const float a = lo[i], b = hi[i], si = sign * s[i];
        lo[i] = a * c[i] - b * si;
        hi[i] = b * c[i] + a * si;
      }
    }
  }
}

void rope_forward(float* x, const float* cos_t, const float* sin_t, int B, int T, int nh, int D) {
  rotate(x, cos_t, sin_t, B, T, nh, D, 1.0f);
}

void rope_backward(float* dx, const float* cos_t, const float* sin_t, int B, int T, int nh, int D) {
  rotate(dx, cos_t, sin_t, B, T, nh, D, -1.0f);
}

}  // namespace tune::cpu
