// The decoder block, written once and driven by the ModelSpec: the per-layer forward steps that training
// (model/gemma.cpp) and generation (infer/kv_decoder.cpp) share, and the per-layer RoPE tables. Attention itself sits
// between the two halves, since training runs it over the batch and generation over a K/V cache.
#pragma once
#include <functional>
#include <vector>

#include "core/tensor.h"
#include "model/lora.h"
#include "model/spec.h"
#include "model/weights.h"

namespace tune {

// y[n, out] = x[n, in] . W^T (+ the LoRA branch of projection p): the caller binds the layer, dropout and caches.
using LinearFn = std::function<void(float* y, const float* x, const FrozenLinear& W, Proj p)>;

// Buffers of one layer's forward over n = B*T rows. Entries marked "if flag" are used only when the layer's spec has
// that flag; the others are always written. Training keeps them all for backward; generation reuses scratch.
struct BlockBuffers {
  float* ln1 = nullptr;     // [n, H]  input_layernorm(x)
  float* rstd1 = nullptr;   // [n]
  float* q = nullptr;       // [n, Nq*D]  after the QK-norm and RoPE
  float* k = nullptr;       // [n, Nkv*D] after the QK-norm and RoPE
  float* v = nullptr;       // [n, Nkv*D]
  float* q_pre = nullptr;   // [n, Nq*D]  q before the QK-norm (if qk_norm)
  float* k_pre = nullptr;   // [n, Nkv*D] k before the QK-norm (if qk_norm)
  float* q_rstd = nullptr;  // [n*Nq]  (if qk_norm)
  float* k_rstd = nullptr;  // [n*Nkv] (if qk_norm)
  float* attn = nullptr;    // [n, Nq*D]  attention output, input of o_proj
  float* o = nullptr;       // [n, H]  o_proj output before the attention output norm (if attn_out_norm)
  float* rstd_o = nullptr;  // [n]     (if attn_out_norm)
  float* h1 = nullptr;      // [n, H]  x + attention
  float* ln2 = nullptr;     // [n, H]  pre-MLP norm of h1
  float* rstd2 = nullptr;   // [n]
  float* gate = nullptr;    // [n, I]
  float* up = nullptr;      // [n, I]
  float* act = nullptr;     // [n, I]  act(gate) * up
  float* down = nullptr;    // [n, H]  down_proj output before the MLP output norm (if mlp_out_norm)
  float* rstd_d = nullptr;  // [n]     (if mlp_out_norm)
};

// Attention inputs of layer l: ln1 = norm(x); q, k, v = projections (+ bias); per-head QK-norm; RoPE on q and k with
// the tables' rows t = row % T (cos/sin [T, D/2], already offset to the first position).
void block_attention_in(const ModelSpec& s, int l, const LayerWeights& w, const LinearFn& linear, const float* x, int B,
                        int T, const float* cos_t, const float* sin_t, const BlockBuffers& b);

// The rest of layer l once b.attn holds the attention output: h1 = x + [norm](o_proj(attn) + bias);
// out = h1 + [norm](down(act(gate(ln2)) * up(ln2))) with ln2 = pre-MLP norm(h1). out may alias x (x is read before out
// is written), not the other buffers.
void block_attention_out_mlp(const ModelSpec& s, int l, const LayerWeights& w, const LinearFn& linear, const float* x,
                             int n, const BlockBuffers& b, float* out);

// dst[n] += src[n] (residual adds and gradient sums), threaded when n is worth it.
void add_into(float* dst, const float* src, int64_t n);

// cos/sin tables [T, D/2] for every distinct RoPE of the spec's layers (most models have one, Gemma 3 two).
class RopeTables {
 public:
  // (Re)builds the tables for positions 0 .. T-1 when T grew or the spec changed.
  void build(const ModelSpec& s, int T);
  const float* cos(int layer, int pos = 0) const { return cos_[index_[layer]].data() + int64_t(pos) * half_; }
  const float* sin(int layer, int pos = 0) const { return sin_[index_[layer]].data() + int64_t(pos) * half_; }

 private:
  int T_ = 0, half_ = 0;
  std::vector<RopeSpec> specs_;
  std::vector<int> index_;                       // [L] layer -> table
  std::vector<std::vector<float>> cos_, sin_;    // per table [T, D/2]
};

}  // namespace tune
