// CPU inverted dropout: a counter-based keep mask (same bits for any thread count) and its application.
#include <cstdint>

#include "core/error.h"
#include "core/threads.h"
#include "kernels/counter_rng.h"
#include "kernels/cpu/ops.h"

namespace tune::cpu {

namespace {

void check_p(float p) {
  TUNE_CHECK(p >= 0.0f && p < 1.0f, "dropout probability ", p, " must be in [0, 1); fix lora_dropout in the config");
}

}  // namespace

void dropout_mask(uint8_t* mask, int64_t n, float p, uint64_t seed, uint64_t offset) {
  check_p(p);
  const uint64_t mixed = splitmix64(seed);
#pragma omp parallel for simd if (parallel : parallel_worth(n))
  for (int64_t i = 0; i < n; ++i) mask[i] = counter_uniform(mixed, offset + uint64_t(i)) >= p ? 1 : 0;
}

void dropout_apply(float* y, const float* x, const uint8_t* mask, int64_t n, float p) {
  check_p(p);
  const float keep_scale = 1.0f / (1.0f - p);
#pragma omp parallel for simd if (parallel : parallel_worth(n))
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * (mask[i] ? keep_scale : 0.0f);
}

}  // namespace tune::cpu
