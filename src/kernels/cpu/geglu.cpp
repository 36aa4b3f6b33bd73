// CPU GeGLU h = gelu(gate) * up (tanh-approximate or exact-erf GELU) and its analytic backward, elementwise in fp32,
// vectorized through the SIMD tanh/erf/exp of vec_math.h (same formulas as the scalar reference).
#include <cstdint>

#include "core/threads.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/vec_math.h"

namespace tune::cpu {

namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;

// tanh(sqrt(2/pi)(x + 0.044715x^3))
[[gnu::always_inline]] inline float gelu_tanh_t(float x) { return vec::tanh(kSqrt2OverPi * (x + kCubic * x * x * x)); }

// 0.5x(1 + t)
[[gnu::always_inline]] inline float gelu_tanh(float x, float t) { return 0.5f * x * (1.0f + t); }

[[gnu::always_inline]] inline float gelu_tanh_grad(float x, float t) {
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kCubic * x * x);
}

// erf(x/sqrt(2))
[[gnu::always_inline]] inline float gelu_exact_erf(float x) { return vec::erf(x * kInvSqrt2); }

// 0.5x(1 + erf)
[[gnu::always_inline]] inline float gelu_exact(float x, float erf) { return 0.5f * x * (1.0f + erf); }

[[gnu::always_inline]] inline float gelu_exact_grad(float x, float erf) {
  return 0.5f * (1.0f + erf) + x * vec::exp(-0.5f * x * x) * kInvSqrt2Pi;
}

}  // namespace

void geglu_forward(float* h, const float* gate, const float* up, int64_t n, Activation act) {
  if (act == Activation::GeluTanh) {
#pragma omp parallel for simd schedule(static) if (parallel : parallel_worth(n))
    for (int64_t e = 0; e < n; ++e) h[e] = gelu_tanh(gate[e], gelu_tanh_t(gate[e])) * up[e];
  } else {
#pragma omp parallel for simd schedule(static) if (parallel : parallel_worth(n))
    for (int64_t e = 0; e < n; ++e) h[e] = gelu_exact(gate[e], gelu_exact_erf(gate[e])) * up[e];
  }
}

void geglu_backward(float* dgate, float* dup, const float* dh, const float* gate, const float* up, int64_t n,
                    Activation act) {
  if (act == Activation::GeluTanh) {
#pragma omp parallel for simd schedule(static) if (parallel : parallel_worth(n))
    for (int64_t e = 0; e < n; ++e) {
      const float x = gate[e], t = gelu_tanh_t(x);
      dgate[e] = dh[e] * up[e] * gelu_tanh_grad(x, t);
      dup[e] = dh[e] * gelu_tanh(x, t);
    }
  } else {
#pragma omp parallel for simd schedule(static) if (parallel : parallel_worth(n))
    for (int64_t e = 0; e < n; ++e) {
      const float x = gate[e], erf = gelu_exact_erf(x);
      dgate[e] = dh[e] * up[e] * gelu_exact_grad(x, erf);
      dup[e] = dh[e] * gelu_exact(x, erf);
    }
  }
}

}  // namespace tune::cpu
