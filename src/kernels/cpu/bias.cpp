// CPU bias add for the biased projections (Qwen2 q/k/v, Llama attention_bias): y[N, C] += b[C], row-threaded.
#include <cstdint>

#include "core/threads.h"
#include "kernels/cpu/ops.h"

namespace tune::cpu {

void bias_add(float* y, const float* b, int N, int C) {
#pragma omp parallel for schedule(static) if (parallel_worth(int64_t(N) * C))
  for (int n = 0; n < N; ++n) {
    float* yr = y + int64_t(n) * C;  // [C]
#pragma omp simd
    for (int c = 0; c < C; ++c) yr[c] += b[c];
  }
}

}  // namespace tune::cpu
