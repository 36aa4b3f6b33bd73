// Scalar reference for the bias add y[N, C] += b[C], the oracle for cpu/bias.cpp. The bias is frozen, so its backward
// is the identity on dy (nothing to compute): the gradient reaches the projection's input and LoRA unchanged.
#pragma once
#include <cstdint>

namespace tune::ref {

template <class T>
void bias_add(T* y, const T* b, int N, int C) {
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) y[int64_t(n) * C + c] += b[c];
}

}  // namespace tune::ref
