// Scalar reference for causal + key-padding masked GQA attention with an optional sliding window and score
// soft-capping, the oracle for cpu/attention.cpp and cpu/attention_decode.cpp.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace tune::ref {

// Whether query i may see key j: causal, a real key, and within the window (window == 0: no window).
inline bool attention_allowed(int i, int j, bool key_real, int window) {
  return j <= i && key_real && (window == 0 || i - j < window);
}

// The score of one (query, key): scale * q.k, then softcap * tanh(score / softcap) when softcap > 0.
template <class T>
T attention_score(const T* qi, const T* kj, int D, T scale, T softcap) {
  T dot = 0;
  for (int d = 0; d < D; ++d) dot += qi[d] * kj[d];
  const T s = dot * scale;
  return softcap > T(0) ? softcap * std::tanh(s / softcap) : s;
}

// q[B,T,Nq,D], k/v[B,T,Nkv,D], mask[B,T] (1 = real token). out[B,T,Nq,D] =, probs[B,Nq,T,T] =.
// Disallowed keys (attention_allowed) get probability 0; a query row with no allowed key gets an all-zero
// probability row and zero output. Query head h reads kv head h / (Nq / Nkv).
template <class T>
void attention_forward(T* out, T* probs, const T* q, const T* k, const T* v, const uint8_t* mask, int B, int Tn, int Nq,
                       int Nkv, int D, std::type_identity_t<T> scale, int window = 0,
                       std::type_identity_t<T> softcap = 0) {
  const int group = Nq / Nkv;
  std::vector<T> s(Tn);  // [T] scores of one query row
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < Nq; ++h)
      for (int i = 0; i < Tn; ++i) {
        const int g = h / group;
        const T* qi = q + ((int64_t(b) * Tn + i) * Nq + h) * D;
        T* p = probs + ((int64_t(b) * Nq + h) * Tn + i) * Tn;
        auto allowed = [&](int j) { return attention_allowed(i, j, mask[int64_t(b) * Tn + j] != 0, window); };
        bool any = false;
        T mx = 0;
        for (int j = 0; j < Tn; ++j) {
          if (!allowed(j)) continue;
          s[j] = attention_score(qi, k + ((int64_t(b) * Tn + j) * Nkv + g) * D, D, T(scale), T(softcap));
          mx = any ? std::max(mx, s[j]) : s[j];
          any = true;
        }
        T sum = 0;
        for (int j = 0; j < Tn; ++j) {
          p[j] = allowed(j) ? std::exp(s[j] - mx) : T(0);
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

// One query q[Nq,D] at position T-1 over caches k/v[T,Nkv,D] (the cached keys within the window allowed).
// out[Nq,D] =.
template <class T>
void attention_decode(T* out, const T* q, const T* k, const T* v, int Tn, int Nq, int Nkv, int D,
                      std::type_identity_t<T> scale, int window = 0, std::type_identity_t<T> softcap = 0) {
  const int group = Nq / Nkv;
  const int lo = window > 0 ? std::max(0, Tn - window) : 0;
  std::vector<T> p(Tn);  // [T] probabilities of one head
  for (int h = 0; h < Nq; ++h) {
    const int g = h / group;
    T mx = 0;
    for (int j = lo; j < Tn; ++j) {
      p[j] = attention_score(q + int64_t(h) * D, k + (int64_t(j) * Nkv + g) * D, D, T(scale), T(softcap));
      mx = j == lo ? p[j] : std::max(mx, p[j]);
    }
    T sum = 0;
    for (int j = lo; j < Tn; ++j) sum += (p[j] = std::exp(p[j] - mx));
    for (int d = 0; d < D; ++d) {
      T acc = 0;
      for (int j = lo; j < Tn; ++j) acc += p[j] / sum * v[(int64_t(j) * Nkv + g) * D + d];
      out[int64_t(h) * D + d] = acc;
    }
  }
}

// dq[B,T,Nq,D] =, dk/dv[B,T,Nkv,D] = given dout[B,T,Nq,D] and the probs saved by attention_forward:
// dv_j = sum_i p_ij dout_i; dp_ij = dout_i . v_j; dc_ij = p_ij (dp_ij - sum_j' p_ij' dp_ij'); with soft-capping
// ds_ij = dc_ij (1 - tanh^2(raw_ij / softcap)) (raw = scale q.k), else ds = dc;
// dq_i = scale sum_j ds_ij k_j; dk_j = scale sum_i ds_ij q_i (kv grads summed over the query heads of a group).
template <class T>
void attention_backward(T* dq, T* dk, T* dv, const T* dout, const T* probs, const T* q, const T* k, const T* v, int B,
                        int Tn, int Nq, int Nkv, int D, std::type_identity_t<T> scale,
                        std::type_identity_t<T> softcap = 0) {
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
          T ds = p[j] * (dp[j] - rowdot);
          if (softcap > T(0)) {
            const T t = std::tanh(attention_score(qi, k + kv_off, D, T(scale), T(0)) / T(softcap));
            ds *= T(1) - t * t;
          }
          for (int d = 0; d < D; ++d) {
            dv[kv_off + d] += p[j] * doi[d];
            dqi[d] += scale * ds * k[kv_off + d];
            dk[kv_off + d] += scale * ds * qi[d];
          }
        }
      }
}

}  // namespace tune::ref
