// CPU decode attention: one query position against the K/V cache, a thread per query head, SIMD dot products and
// softmax (the same fp32 exp as the training attention).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/threads.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/vec_math.h"

namespace tune::cpu {

void attention_decode(float* out, const float* q, const float* k, const float* v, int T, int Nq, int Nkv, int D,
                      float scale, std::vector<float>* scores) {
  TUNE_CHECK(Nkv > 0 && Nq % Nkv == 0, "attention: num_attention_heads ", Nq,
             " is not a multiple of num_key_value_heads ", Nkv, "; check config.json");
  TUNE_CHECK(T >= 1, "decode attention needs at least one cached position");
  const int group = Nq / Nkv;
  const int64_t ldk = int64_t(Nkv) * D;
  std::vector<float> local;
  std::vector<float>& s_all = scores ? *scores : local;
  s_all.resize(size_t(Nq) * T);
#pragma omp parallel for schedule(static) if (parallel_worth(int64_t(Nq) * T * D))
  for (int h = 0; h < Nq; ++h) {
    const float* qh = q + int64_t(h) * D;           // [D]
    const float* kg = k + int64_t(h / group) * D;   // [T, D] stride ldk
    const float* vg = v + int64_t(h / group) * D;   // [T, D] stride ldk
    float* s = s_all.data() + int64_t(h) * T;       // [T]
    float mx = -INFINITY;
    for (int j = 0; j < T; ++j) {
      const float* kj = kg + j * ldk;
      float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
      for (int d = 0; d < D; ++d) dot += qh[d] * kj[d];
      s[j] = dot * scale;
      mx = std::max(mx, s[j]);
    }
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < T; ++j) {
      s[j] = vec::exp(s[j] - mx);
      sum += s[j];
    }
    const float inv = 1.0f / sum;
    float* oh = out + int64_t(h) * D;  // [D]
    std::fill_n(oh, D, 0.0f);
    for (int j = 0; j < T; ++j) {
      const float p = s[j] * inv;
      const float* vj = vg + j * ldk;
#pragma omp simd
      for (int d = 0; d < D; ++d) oh[d] += p * vj[d];
    }
  }
}

}  // namespace tune::cpu
