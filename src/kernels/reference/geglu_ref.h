// Scalar reference for the gated MLP activation h = act(gate) * up (GELU tanh / exact: GeGLU; SiLU: SwiGLU) and its
// analytic backward.
#pragma once
#include <cmath>
#include <cstdint>

#include "model/model_config.h"

namespace tune::ref {

// GELU tanh: 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))); exact: 0.5x(1 + erf(x/sqrt(2))); SiLU: x / (1 + e^-x).
template <class T>
T gelu(T x, Activation act) {
  if (act == Activation::Silu) return x / (T(1) + std::exp(-x));
  if (act == Activation::GeluTanh) {
    const T k = T(0.7978845608028654);  // sqrt(2/pi)
    return T(0.5) * x * (T(1) + std::tanh(k * (x + T(0.044715) * x * x * x)));
  }
  return T(0.5) * x * (T(1) + std::erf(x * T(0.7071067811865476)));  // 1/sqrt(2)
}

// d gelu / dx, analytic.
template <class T>
T gelu_grad(T x, Activation act) {
  if (act == Activation::Silu) {
    const T s = T(1) / (T(1) + std::exp(-x));
    return s * (T(1) + x * (T(1) - s));
  }
  if (act == Activation::GeluTanh) {
    const T k = T(0.7978845608028654);
    const T t = std::tanh(k * (x + T(0.044715) * x * x * x));
    return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * k * (T(1) + T(3 * 0.044715) * x * x);
  }
  const T pdf = std::exp(T(-0.5) * x * x) * T(0.3989422804014327);  // 1/sqrt(2 pi)
  return T(0.5) * (T(1) + std::erf(x * T(0.7071067811865476))) + x * pdf;
}

// h[n] = gelu(gate) * up
template <class T>
void geglu_forward(T* h, const T* gate, const T* up, int64_t n, Activation act) {
  for (int64_t e = 0; e < n; ++e) h[e] = gelu(gate[e], act) * up[e];
}

// dgate = dh * up * gelu'(gate), dup = dh * gelu(gate)
template <class T>
void geglu_backward(T* dgate, T* dup, const T* dh, const T* gate, const T* up, int64_t n, Activation act) {
  for (int64_t e = 0; e < n; ++e) {
    dgate[e] = dh[e] * up[e] * gelu_grad(gate[e], act);
    dup[e] = dh[e] * gelu(gate[e], act);
  }
}

}  // namespace tune::ref
