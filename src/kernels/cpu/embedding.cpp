// CPU token embedding lookup with the caller's scale (rows copied in parallel).
#include <cstdint>

#include "core/error.h"
#include "core/threads.h"
#include "kernels/cpu/ops.h"

namespace tune::cpu {

void embedding_forward(float* out, const int32_t* ids, const float* table, int N, int H, int V, float scale) {
  for (int n = 0; n < N; ++n)
    TUNE_CHECK(ids[n] >= 0 && ids[n] < V, "embedding: token id ", ids[n], " at position ", n,
               " is outside the vocabulary [0, ", V, "); check that the tokenizer matches the model");
#pragma omp parallel for if (parallel_worth(int64_t(N) * H))
  for (int n = 0; n < N; ++n) {
    const float* src = table + int64_t(ids[n]) * H;  // [H]
    float* dst = out + int64_t(n) * H;               // [H]
#pragma omp simd
    for (int c = 0; c < H; ++c) dst[c] = src[c] * scale;
  }
}

}  // namespace tune::cpu
