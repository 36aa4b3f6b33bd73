// Scalar reference for inverted dropout with a counter-based mask, the oracle for cpu/dropout.cpp.
#pragma once
#include <cstdint>
#include <type_traits>

#include "core/error.h"
#include "kernels/counter_rng.h"

namespace tune::ref {

// mask[i] = 1 (keep) when counter_uniform(splitmix64(seed), offset + i) >= p, else 0. p must be in [0, 1).
inline void dropout_mask(uint8_t* mask, int64_t n, float p, uint64_t seed, uint64_t offset) {
  TUNE_CHECK(p >= 0.0f && p < 1.0f, "dropout probability ", p, " must be in [0, 1); fix lora_dropout in the config");
  const uint64_t mixed = splitmix64(seed);
  for (int64_t i = 0; i < n; ++i) mask[i] = counter_uniform(mixed, offset + uint64_t(i)) >= p ? 1 : 0;
}

// y[n] = x * (mask ? 1 / (1 - p) : 0), as torch multiplies by the scaled keep mask
template <class T>
void dropout_apply(T* y, const T* x, const uint8_t* mask, int64_t n, std::type_identity_t<T> p) {
  TUNE_CHECK(p >= T(0) && p < T(1), "dropout probability ", p, " must be in [0, 1); fix lora_dropout in the config");
  const T keep_scale = T(1) / (T(1) - p);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * (mask[i] ? keep_scale : T(0));
}

}  // namespace tune::ref
