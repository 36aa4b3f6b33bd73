// CPU GeGLU h = gelu(gate) * up (tanh-approximate or exact-erf GELU) and its analytic backward, elementwise in fp32.
#include <cmath>
#include <cstdint>

#include "kernels/cpu/ops.h"

namespace tune::cpu {

namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;

// 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))
inline float gelu_tanh(float x) { return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + kCubic * x * x * x))); }

inline float gelu_tanh_grad(float x) {
  const float t = std::tanh(kSqrt2OverPi * (x + kCubic * x * x * x));
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kCubic * x * x);
}

// 0.5x(1 + erf(x/sqrt(2)))
inline float gelu_exact(float x) { return 0.5f * x * (1.0f + std::erf(x * kInvSqrt2)); }

inline float gelu_exact_grad(float x) {
  return 0.5f * (1.0f + std::erf(x * kInvSqrt2)) + x * std::exp(-0.5f * x * x) * kInvSqrt2Pi;
}

}  // namespace

void geglu_forward(float* h, const float* gate, const float* up, int64_t n, Activation act) {
  if (act == Activation::GeluTanh) {
#pragma omp parallel for
    for (int64_t e = 0; e < n; ++e) h[e] = gelu_tanh(gate[e]) * up[e];
  } else {
#pragma omp parallel for
    for (int64_t e = 0; e < n; ++e) h[e] = gelu_exact(gate[e]) * up[e];
  }
}

void geglu_backward(float* dgate, float* dup, const float* dh, const float* gate, const float* up, int64_t n,
                    Activation act) {
  if (act == Activation::GeluTanh) {
#pragma omp parallel for
    for (int64_t e = 0; e < n; ++e) {
      dgate[e] = dh[e] * up[e] * gelu_tanh_grad(gate[e]);
      dup[e] = dh[e] * gelu_tanh(gate[e]);
    }
  } else {
#pragma omp parallel for
    for (int64_t e = 0; e < n; ++e) {
      dgate[e] = dh[e] * up[e] * gelu_exact_grad(gate[e]);
      dup[e] = dh[e] * gelu_exact(gate[e]);
    }
  }
}

}  // namespace tune::cpu
