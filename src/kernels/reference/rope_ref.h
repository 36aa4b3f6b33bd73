// Scalar reference for RoPE in the HF rotate_half convention (dim i pairs with i + D/2), the oracle for cpu/rope.cpp.
#pragma once
#include <cmath>
#include <cstdint>

#include "model/spec.h"

namespace tune::ref {

// inv_freq[D/2] for a RoPE spec, in double, straight from HF's formulas: default 1 / theta^(2i/D); linear / factor;
// llama3: wavelength w = 2 pi / f; w > L/low: f / factor; w < L/high: f; else (1 - s) f / factor + s f with
// s = (L / w - low) / (high - low) (L = original_max_position_embeddings).
inline void rope_inv_freq(double* inv_freq, int D, const RopeSpec& rope) {
  const double L = rope.original_max_position, lo = rope.low_freq_factor, hi = rope.high_freq_factor;
  for (int i = 0; i < D / 2; ++i) {
    const double f = 1.0 / std::pow(rope.theta, double(2 * i) / double(D));
    double out = f;
    if (rope.scaling == RopeScaling::Linear) {
      out = f / rope.factor;
    } else if (rope.scaling == RopeScaling::Llama3) {
      const double w = 2.0 * M_PI / f;
      if (w > L / lo) {
        out = f / rope.factor;
      } else if (w >= L / hi) {
        const double s = (L / w - lo) / (hi - lo);
        out = (1.0 - s) * f / rope.factor + s * f;
      }
    }
    inv_freq[i] = out;
  }
}

// cos/sin tables [T, D/2]: inv_freq[i] = 1 / theta^(2i/D) and angle = p * inv_freq[i], all in T (HF recipe in fp32).
template <class T>
void rope_tables(T* cos_t, T* sin_t, int Tn, int D, double theta) {
  const int half = D / 2;
  for (int p = 0; p < Tn; ++p)
    for (int i = 0; i < half; ++i) {
      const T inv_freq = T(1) / std::pow(T(theta), T(2 * i) / T(D));
      const T angle = T(p) * inv_freq;
      cos_t[int64_t(p) * half + i] = std::cos(angle);
      sin_t[int64_t(p) * half + i] = std::sin(angle);
    }
}

// x[B,T,nh,D] in place: out[i] = x[i]*c - x[i+D/2]*s, out[i+D/2] = x[i+D/2]*c + x[i]*s (c, s of row t, freq i).
template <class T>
void rope_forward(T* x, const T* cos_t, const T* sin_t, int B, int Tn, int nh, int D) {
  const int half = D / 2;
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < Tn; ++t)
      for (int h = 0; h < nh; ++h) {
        T* v = x + ((int64_t(b) * Tn + t) * nh + h) * D;
        for (int i = 0; i < half; ++i) {
          const T c = cos_t[int64_t(t) * half + i], s = sin_t[int64_t(t) * half + i];
          const T lo = v[i], hi = v[i + half];
          v[i] = lo * c - hi * s;
          v[i + half] = hi * c + lo * s;
        }
      }
}

// dx[B,T,nh,D] in place by the transposed (= inverse) rotation: the backward of rope_forward.
template <class T>
void rope_backward(T* dx, const T* cos_t, const T* sin_t, int B, int Tn, int nh, int D) {
  const int half = D / 2;
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < Tn; ++t)
      for (int h = 0; h < nh; ++h) {
        T* g = dx + ((int64_t(b) * Tn + t) * nh + h) * D;
        for (int i = 0; i < half; ++i) {
          const T c = cos_t[int64_t(t) * half + i], s = sin_t[int64_t(t) * half + i];
          const T lo = g[i], hi = g[i + half];
          g[i] = lo * c + hi * s;
          g[i + half] = hi * c - lo * s;
        }
      }
}

}  // namespace tune::ref
