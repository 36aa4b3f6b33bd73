// Scalar reference for causal + key-padding masked GQA attention, the oracle for cpu/attention.cpp.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace tune::ref {

// q[B,T,Nq,D], k/v[B,T,Nkv,D], mask[B,T] (1 = real token). out[B,T,Nq,D] =, probs[B,Nq,T,T] =.
// Allowed(i, j) = j <= i && mask[b, j]; disallowed keys get probability 0; a query row with no allowed key gets an
// all-zero probability row and zero output. Query head h reads kv head h / (Nq / Nkv).
template <class T>
void attention_forward(T* out, T* probs, const T* q, const T* k, const T* v, const uint8_t* mask, int B, int Tn, int Nq,
                       int Nkv, int D, std::type_identity_t<T> scale) {
  const int group = Nq / Nkv;
  std::vector<T> s(Tn);  // [T] scores of one query row
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < Nq; ++h)
      for (int i = 0; i < Tn; ++i) {
        const int g = h / group;
        const T* qi = q + ((int64_t(b) * Tn + i) * Nq + h) * D;
        T* p = probs + ((int64_t(b) * Nq + h) * Tn + i) * Tn;
        bool any = false;
        T mx = 0;
        for (int j = 0; j < Tn; ++j) {
          const bool allowed = j <= i && mask[int64_t(b) * Tn + j] != 0;
          if (!allowed) continue;
          const T* kj = k + ((int64_t(b) * Tn + j) * Nkv + g) * D;
          T dot = 0;
          for (int d = 0; d < D; ++d) dot += qi[d] * kj[d];
          s[j] = dot * scale;
          mx = any ? std::max(mx, s[j]) : s[j];
          any = true;
        }
        T sum = 0;
        for (int j = 0; j < Tn; ++j) {
          const bool allowed = j <= i && mask[int64_t(b) * Tn + j] != 0;
          p[j] = allowed ? std::exp(s[j] - mx) : T(0);
          sum += p[j];
        }
        for (int j = 0; j < Tn; ++j) p[j] = any ? p[j] / sum : T(0);
        T* oi = out + ((int64_t(b) * Tn + i) * Nq + h) * D;
        for (int d = 0; d < D; ++d) {
          T acc = 0;
          for (int j = 0; j < Tn; ++j) acc += p[j] * v[((int64_t(b) * Tn + j) * Nkv + g) * D + d];
          oi[d] = acc;
        }
      }
}

// One query q[Nq,D] at position T-1 over caches k/v[T,Nkv,D] (every cached key allowed). out[Nq,D] =.
template <class T>
void attention_decode(T* out, const T* q, const T* k, const T* v, int Tn, int Nq, int Nkv, int D,
                      std::type_identity_t<T> scale) {
  const int group = Nq / Nkv;
  std::vector<T> p(Tn);  // [T] probabilities of one head
  for (int h = 0; h < Nq; ++h) {
    const int g = h / group;
    T mx = 0;
    for (int j = 0; j < Tn; ++j) {
      T dot = 0;
      for (int d = 0; d < D; ++d) dot += q[int64_t(h) * D + d] * k[(int64_t(j) * Nkv + g) * D + d];
      p[j] = dot * scale;
      mx = j == 0 ? p[j] : std::max(mx, p[j]);
    }
    T sum = 0;
    for (int j = 0; j < Tn; ++j) sum += (p[j] = std::exp(p[j] - mx));
    for (int d = 0; d < D; ++d) {
      T acc = 0;
      for (int j = 0; j < Tn; ++j) acc += p[j] / sum * v[(int64_t(j) * Nkv + g) * D + d];
      out[int64_t(h) * D + d] = acc;
    }
  }
}

// dq[B,T,Nq,D] =, dk/dv[B,T,Nkv,D] = given dout[B,T,Nq,D] and the probs saved by attention_forward:
// dv_j = sum_i p_ij dout_i; dp_ij = dout_i . v_j; ds_ij = p_ij (dp_ij - sum_j' p_ij' dp_ij');
// dq_i = scale sum_j ds_ij k_j; dk_j = scale sum_i ds_ij q_i (kv grads summed over the query heads of a group).
template <class T>
void attention_backward(T* dq, T* dk, T* dv, const T* dout, const T* probs, const T* q, const T* k, const T* v, int B,
                        int Tn, int Nq, int Nkv, int D, std::type_identity_t<T> scale) {
  const int group = Nq / Nkv;
  const int64_t kv_numel = int64_t(B) * Tn * Nkv * D;
  for (int64_t e = 0; e < kv_numel; ++e) dk[e] = dv[e] = T(0);
  std::vector<T> dp(Tn);  // [T] dp of one query row
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < Nq; ++h)
      for (int i = 0; i < Tn; ++i) {
        const int g = h / group;
        const T* p = probs + ((int64_t(b) * Nq + h) * Tn + i) * Tn;
        const T* doi = dout + ((int64_t(b) * Tn + i) * Nq + h) * D;
        const T* qi = q + ((int64_t(b) * Tn + i) * Nq + h) * D;
        T* dqi = dq + ((int64_t(b) * Tn + i) * Nq + h) * D;
        T rowdot = 0;
        for (int j = 0; j < Tn; ++j) {
          const T* vj = v + ((int64_t(b) * Tn + j) * Nkv + g) * D;
          T acc = 0;
          for (int d = 0; d < D; ++d) acc += doi[d] * vj[d];
          dp[j] = acc;
          rowdot += p[j] * acc;
        }
        for (int d = 0; d < D; ++d) dqi[d] = T(0);
        for (int j = 0; j < Tn; ++j) {
          const int64_t kv_off = ((int64_t(b) * Tn + j) * Nkv + g) * D;
          const T ds = p[j] * (dp[j] - rowdot);
          for (int d = 0; d < D; ++d) {
            dv[kv_off + d] += p[j] * doi[d];
            dqi[d] += scale * ds * k[kv_off + d];
            dk[kv_off + d] += scale * ds * qi[d];
          }
        }
      }
}

}  // namespace tune::ref
