// CPU causal + key-padding masked GQA attention: per-(b, head) sgemm for Q.K^T and P.V, masked fp32 SIMD softmax rows
// threaded with OpenMP (each product is a cpu::sgemm, threaded by its own work).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/threads.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/vec_math.h"

namespace tune::cpu {

namespace {

// In place over one score row s[T] of query i: softmax over allowed keys (j <= i && key_mask[j]), zeros elsewhere;
// an all-zero row when no key is allowed.
void masked_softmax_row(float* s, const uint8_t* key_mask, int i, int T) {
  float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
  for (int j = 0; j <= i; ++j) mx = key_mask[j] && s[j] > mx ? s[j] : mx;
  if (mx == -INFINITY) {
    std::fill_n(s, T, 0.0f);
    return;
  }
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int j = 0; j <= i; ++j) {
    s[j] = key_mask[j] ? vec::exp(s[j] - mx) : 0.0f;
    sum += s[j];
  }
#pragma omp simd
  for (int j = 0; j <= i; ++j) s[j] /= sum;
  std::fill(s + i + 1, s + T, 0.0f);
}

void check_heads(int Nq, int Nkv) {
  TUNE_CHECK(Nkv > 0 && Nq % Nkv == 0, "attention: num_attention_heads ", Nq,
             " is not a multiple of num_key_value_heads ", Nkv, "; check config.json");
}

}  // namespace

void attention_forward(float* out, float* probs, const float* q, const float* k, const float* v, const uint8_t* mask,
                       int B, int T, int Nq, int Nkv, int D, float scale) {
  check_heads(Nq, Nkv);
  if (int64_t(B) * T * Nq == 0) return;
  const int group = Nq / Nkv;
  const int ldq = Nq * D, ldk = Nkv * D;
  const int64_t TT = int64_t(T) * T;
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < Nq; ++h) {
      const float* qh = q + int64_t(b) * T * ldq + int64_t(h) * D;          // [T, D] stride ldq
      const float* kg = k + int64_t(b) * T * ldk + int64_t(h / group) * D;  // [T, D] stride ldk
      float* s = probs + (int64_t(b) * Nq + h) * TT;                        // [T, T]
      sgemm(false, true, T, T, D, scale, qh, ldq, kg, ldk, 0.0f, s, T);
    }
#pragma omp parallel for if (parallel_worth(int64_t(B) * Nq * TT))
  for (int64_t row = 0; row < int64_t(B) * Nq * T; ++row) {
    const int b = int(row / (int64_t(Nq) * T)), i = int(row % T);
    masked_softmax_row(probs + row * T, mask + int64_t(b) * T, i, T);
  }
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < Nq; ++h) {
      const float* p = probs + (int64_t(b) * Nq + h) * TT;                  // [T, T]
      const float* vg = v + int64_t(b) * T * ldk + int64_t(h / group) * D;  // [T, D] stride ldk
      float* oh = out + int64_t(b) * T * ldq + int64_t(h) * D;              // [T, D] stride ldq
      sgemm(false, false, T, D, T, 1.0f, p, T, vg, ldk, 0.0f, oh, ldq);
    }
}

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* probs, const float* q,
                        const float* k, const float* v, int B, int T, int Nq, int Nkv, int D, float scale,
                        std::vector<float>* ds_scratch) {
  check_heads(Nq, Nkv);
  const int64_t kv_numel = int64_t(B) * T * Nkv * D;
  std::fill_n(dk, kv_numel, 0.0f);
  std::fill_n(dv, kv_numel, 0.0f);
  if (int64_t(B) * T * Nq == 0) return;
  const int group = Nq / Nkv;
  const int ldq = Nq * D, ldk = Nkv * D;
  const int64_t TT = int64_t(T) * T;
  std::vector<float> local;
  std::vector<float>& ds = ds_scratch ? *ds_scratch : local;  // [T, T] dP, then dS, of one (b, head)
  ds.resize(size_t(TT));
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < Nq; ++h) {
      const int64_t q_off = int64_t(b) * T * ldq + int64_t(h) * D;
      const int64_t kv_off = int64_t(b) * T * ldk + int64_t(h / group) * D;
      const float* p = probs + (int64_t(b) * Nq + h) * TT;  // [T, T]
      // dV_g += P^T . dO_h
      sgemm(true, false, T, D, T, 1.0f, p, T, dout + q_off, ldq, 1.0f, dv + kv_off, ldk);
      // dP = dO_h . V_g^T
      sgemm(false, true, T, T, D, 1.0f, dout + q_off, ldq, v + kv_off, ldk, 0.0f, ds.data(), T);
      // dS = P * (dP - rowsum(P * dP))
#pragma omp parallel for if (parallel_worth(TT))
      for (int i = 0; i < T; ++i) {
        const float* pr = p + int64_t(i) * T;    // [T]
        float* dr = ds.data() + int64_t(i) * T;  // [T]
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (int j = 0; j < T; ++j) dot += pr[j] * dr[j];
#pragma omp simd
        for (int j = 0; j < T; ++j) dr[j] = pr[j] * (dr[j] - dot);
      }
      // dQ_h = scale * dS . K_g ; dK_g += scale * dS^T . Q_h
      sgemm(false, false, T, D, T, scale, ds.data(), T, k + kv_off, ldk, 0.0f, dq + q_off, ldq);
      sgemm(true, false, T, D, T, scale, ds.data(), T, q + q_off, ldq, 1.0f, dk + kv_off, ldk);
    }
}

}  // namespace tune::cpu
