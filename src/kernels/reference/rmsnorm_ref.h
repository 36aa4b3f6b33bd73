// Scalar reference for RMSNorm y = x * rstd * (w_offset + w) (1 + w: Gemma, w: Llama), the oracle for cpu/rmsnorm.cpp.
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace tune::ref {

// y[N,C] = x * rstd * (w_offset + w), rstd[N] = 1 / sqrt(mean(x^2) + eps); everything in T.
template <class T>
void rmsnorm_forward(T* y, T* rstd, const T* x, const T* w, int N, int C, std::type_identity_t<T> eps,
                     std::type_identity_t<T> w_offset) {
  for (int n = 0; n < N; ++n) {
    const T* xr = x + int64_t(n) * C;
    T ss = 0;
    for (int c = 0; c < C; ++c) ss += xr[c] * xr[c];
    const T r = T(1) / std::sqrt(ss / T(C) + eps);
    rstd[n] = r;
    for (int c = 0; c < C; ++c) y[int64_t(n) * C + c] = xr[c] * r * (w_offset + w[c]);
  }
}

// dx[N,C] += d/dx of sum(dy * y): dx = r*g*dy - x * r^3/C * sum(dy*g*x), g = w_offset + w.
template <class T>
void rmsnorm_backward(T* dx, const T* dy, const T* x, const T* w, const T* rstd, int N, int C,
                      std::type_identity_t<T> w_offset) {
  for (int n = 0; n < N; ++n) {
    const T* xr = x + int64_t(n) * C;
    const T* dyr = dy + int64_t(n) * C;
    const T r = rstd[n];
    T dot = 0;
    for (int c = 0; c < C; ++c) dot += dyr[c] * (w_offset + w[c]) * xr[c];
    for (int c = 0; c < C; ++c) dx[int64_t(n) * C + c] += r * (w_offset + w[c]) * dyr[c] - xr[c] * (r * r * r / T(C)) * dot;
  }
}

}  // namespace tune::ref
