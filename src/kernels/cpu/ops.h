// The CPU op set (fp32, row-major, threaded; matmuls through BLAS). Each op has a scalar twin in
// kernels/reference/ops_ref.h with the same meaning, used as the oracle in tests.
// "=" means the output is overwritten, "+=" that it is accumulated into.
#pragma once
#include <cstdint>
#include <vector>

#include "model/model_config.h"

namespace tune::cpu {

// ---- matmuls (nn.Linear layout: W is [out, in]) ----
// y[N,out] (= or +=) alpha * x[N,in] . W[out,in]^T
void linear_forward(float* y, const float* x, const float* w, int N, int in, int out, float alpha, bool accumulate);
// dx[N,in] (= or +=) alpha * dy[N,out] . W[out,in]
void linear_backward_input(float* dx, const float* dy, const float* w, int N, int in, int out, float alpha,
                           bool accumulate);
// dW[out,in] += alpha * dy[N,out]^T . x[N,in]
void linear_backward_weight(float* dw, const float* dy, const float* x, int N, int in, int out, float alpha);

// ---- bias add (frozen projection bias; its backward is the identity on dy) ----
// y[N,C] += b[C]
void bias_add(float* y, const float* b, int N, int C);

// ---- low-rank matmuls (the LoRA branch: a thin factor with r rows, r small) ----
// u[N,r] = alpha * x[N,K] . a[r,K]^T
void lowrank_down(float* u, const float* x, const float* a, int N, int K, int r, float alpha);
// g[r,K] += alpha * u[N,r]^T . x[N,K]
void lowrank_outer_add(float* g, const float* u, const float* x, int N, int r, int K, float alpha);

// ---- embedding ----
// out[N,H] = table[ids[n], :] * scale. ids outside [0, V) are an error (throws tune::Error).
void embedding_forward(float* out, const int32_t* ids, const float* table, int N, int H, int V, float scale);

// ---- RMSNorm: y = x * rstd * (w_offset + w), rstd = 1/sqrt(mean(x^2) + eps); w_offset 1 (Gemma) or 0 (Llama) ----
// Also the QK-norm: the same op over [N * heads, D] rows.
// y[N,C] =, rstd[N] = (saved for backward)
void rmsnorm_forward(float* y, float* rstd, const float* x, const float* w, int N, int C, float eps, float w_offset);
// dx[N,C] += d/dx given dy[N,C] (the norm weight is frozen: no weight gradient)
void rmsnorm_backward(float* dx, const float* dy, const float* x, const float* w, const float* rstd, int N, int C,
                      float w_offset);

// ---- RoPE, HF rotate_half convention: dim i pairs with i + D/2 ----
// inv_freq[D/2] of HF's rope_type: default theta^(-2i/D); linear: that / factor; llama3: low frequencies / factor,
// high ones kept, a smooth blend between (_compute_llama3_parameters), all in fp32 as HF computes them.
void rope_inv_freq(float* inv_freq, int D, const RopeSpec& rope);
// cos/sin tables [T, D/2]: angle(p, i) = p * inv_freq[i] computed in fp32 as HF does.
void rope_tables(float* cos_t, float* sin_t, int T, int D, const RopeSpec& rope);
// x[B,T,nh,D] rotated in place by the position of its row index t (positions = arange(T), as HF).
void rope_forward(float* x, const float* cos_t, const float* sin_t, int B, int T, int nh, int D);
// dx[B,T,nh,D] rotated in place by the inverse rotation (the backward of rope_forward).
void rope_backward(float* dx, const float* cos_t, const float* sin_t, int B, int T, int nh, int D);

// ---- attention: causal + key-padding mask, GQA (query head h uses kv head h / (Nq/Nkv)) ----
// q[B,T,Nq,D], k/v[B,T,Nkv,D], mask[B,T] (1 = real token). out[B,T,Nq,D] =, probs[B,Nq,T,T] = (saved).
// Allowed(i, j) = j <= i && mask[b, j] && (window == 0 || i - j < window); a query row with no allowed key gets zero
// output. Scores are scale * q.k, soft-capped to softcap * tanh(score / softcap) when softcap > 0.
void attention_forward(float* out, float* probs, const float* q, const float* k, const float* v,
                       const uint8_t* mask, int B, int T, int Nq, int Nkv, int D, float scale, int window,
                       float softcap);
// dq[B,T,Nq,D] =, dk/dv[B,T,Nkv,D] = given dout[B,T,Nq,D] and the saved probs (which carry the mask and window).
// ds_scratch: a reused [T, T] buffer, [2, T, T] when soft-capped (a local one when nullptr).
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* probs, const float* q,
                        const float* k, const float* v, int B, int T, int Nq, int Nkv, int D, float scale,
                        float softcap, std::vector<float>* ds_scratch = nullptr);

// ---- decode attention: one new query over a K/V cache (generation) ----
// q[Nq,D] is the query at position T-1; k/v[T,Nkv,D] cache positions 0..T-1, its own included (causal by
// construction). out[Nq,D] = softmax(cap(scale * q.k^T)) . v per head over the last `window` positions (all when
// window == 0); query head h reads kv head h / (Nq/Nkv). scores: a reused [Nq, T] buffer (a local one when nullptr).
void attention_decode(float* out, const float* q, const float* k, const float* v, int T, int Nq, int Nkv, int D,
                      float scale, int window, float softcap, std::vector<float>* scores = nullptr);

// ---- gated MLP activation: h = act(gate) * up (GeGLU with GELU, SwiGLU with SiLU) ----
void geglu_forward(float* h, const float* gate, const float* up, int64_t n, Activation act);
// dgate =, dup = given dh
void geglu_backward(float* dgate, float* dup, const float* dh, const float* gate, const float* up, int64_t n,
                    Activation act);

// ---- dropout (inverted): y = x * mask / (1 - p); mask bytes are 0/1 ----
void dropout_mask(uint8_t* mask, int64_t n, float p, uint64_t seed, uint64_t offset);
void dropout_apply(float* y, const float* x, const uint8_t* mask, int64_t n, float p);

// ---- LM head + causal-LM cross-entropy, chunked over tokens so [N, V] logits never exist at once ----
// Working buffers of lm_head_cross_entropy that a caller may keep across calls (grown on demand, never zero-filled).
struct LmHeadScratch {
  std::vector<int64_t> rows;         // [n] flat position b*T + t of each valid target
  std::vector<int32_t> targets;      // [n] its label
  std::vector<double> losses;        // [n] its loss
  std::vector<float> h, logits, dh;  // [R, H], [R, V], [R, H] of one chunk of R targets
};
// h[B,T,H] (final-normed), E[V,H] (the tied embedding or lm_head). Logits are h . E^T, soft-capped to
// softcap * tanh(logits / softcap) when softcap > 0. Target of position t is labels[b, t+1]; -100 is ignored; the last
// position has no target. Returns the summed loss over valid targets and writes their count to *n_valid.
// When dh != nullptr: dh[B,T,H] += grad_scale * d(sum loss)/dh.
// When logits != nullptr: logits[B,T,V] = the (capped) logits (for tests and evaluation).
// scratch: reused buffers (a local set when nullptr).
double lm_head_cross_entropy(float* dh, float* logits, const float* h, const float* E, const int32_t* labels, int B,
                             int T, int H, int V, float grad_scale, float softcap, int64_t* n_valid,
                             LmHeadScratch* scratch = nullptr);

}  // namespace tune::cpu
