// The spec-driven decoder block's forward steps and the per-layer RoPE tables (see block.h).
#include "model/block.h"

#include <algorithm>

#include "core/threads.h"
#include "kernels/cpu/ops.h"

namespace tune {

void add_into(float* dst, const float* src, int64_t n) {
#pragma omp parallel for simd schedule(static) if (parallel : parallel_worth(n))
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

void block_attention_in(const ModelSpec& s, int l, const LayerWeights& w, const LinearFn& linear, const float* x, int B,
                        int T, const float* cos_t, const float* sin_t, const BlockBuffers& b) {
  const LayerSpec& ls = s.layer(l);
  const int n = B * T, H = s.hidden_size, Nq = s.num_heads, Nkv = s.num_kv_heads, D = s.head_dim;
  const float off = s.norm_offset();
  cpu::rmsnorm_forward(b.ln1, b.rstd1, x, w.input_norm.ptr(), n, H, s.rms_norm_eps, off);
  // With a QK-norm the projections land in q_pre / k_pre and the normed heads in q / k.
  float* q_lin = ls.qk_norm ? b.q_pre : b.q;
  float* k_lin = ls.qk_norm ? b.k_pre : b.k;
  linear(q_lin, b.ln1, w.q, Proj::Q);
  linear(k_lin, b.ln1, w.k, Proj::K);
  linear(b.v, b.ln1, w.v, Proj::V);
  if (s.qkv_bias) {
    cpu::bias_add(q_lin, w.q_bias.ptr(), n, s.q_dim());
    cpu::bias_add(k_lin, w.k_bias.ptr(), n, s.kv_dim());
    cpu::bias_add(b.v, w.v_bias.ptr(), n, s.kv_dim());
  }
  if (ls.qk_norm) {
    cpu::rmsnorm_forward(b.q, b.q_rstd, b.q_pre, w.q_norm.ptr(), n * Nq, D, s.rms_norm_eps, off);
    cpu::rmsnorm_forward(b.k, b.k_rstd, b.k_pre, w.k_norm.ptr(), n * Nkv, D, s.rms_norm_eps, off);
  }
  cpu::rope_forward(b.q, cos_t, sin_t, B, T, Nq, D);
  cpu::rope_forward(b.k, cos_t, sin_t, B, T, Nkv, D);
}

void block_attention_out_mlp(const ModelSpec& s, int l, const LayerWeights& w, const LinearFn& linear, const float* x,
                             int n, const BlockBuffers& b, float* out) {
  const LayerSpec& ls = s.layer(l);
  const int H = s.hidden_size, I = s.intermediate_size;
  const int64_t nH = int64_t(n) * H;
  const float off = s.norm_offset(), eps = s.rms_norm_eps;

  // h1 = x + [attn_out_norm](o_proj(attn) + o_bias)
  float* o = ls.attn_out_norm ? b.o : b.h1;
  linear(o, b.attn, w.o, Proj::O);
  if (s.o_bias) cpu::bias_add(o, w.o_bias.ptr(), n, H);
  if (ls.attn_out_norm) cpu::rmsnorm_forward(b.h1, b.rstd_o, b.o, w.attn_out_norm.ptr(), n, H, eps, off);
  add_into(b.h1, x, nH);

  // out = h1 + [mlp_out_norm](down(act(gate(ln2)) * up(ln2)))
  cpu::rmsnorm_forward(b.ln2, b.rstd2, b.h1, w.mlp_norm.ptr(), n, H, eps, off);
  linear(b.gate, b.ln2, w.gate, Proj::Gate);
  linear(b.up, b.ln2, w.up, Proj::Up);
  cpu::geglu_forward(b.act, b.gate, b.up, int64_t(n) * I, s.activation);
  if (ls.mlp_out_norm) {
    linear(b.down, b.act, w.down, Proj::Down);
    cpu::rmsnorm_forward(out, b.rstd_d, b.down, w.mlp_out_norm.ptr(), n, H, eps, off);
  } else {
    linear(out, b.act, w.down, Proj::Down);
  }
  add_into(out, b.h1, nH);
}

void RopeTables::build(const ModelSpec& s, int T) {
  std::vector<RopeSpec> specs;
  std::vector<int> index(static_cast<size_t>(s.num_layers));
  for (int l = 0; l < s.num_layers; ++l) {
    const RopeSpec& r = s.layer(l).rope;
    auto it = std::find(specs.begin(), specs.end(), r);
    index[static_cast<size_t>(l)] = static_cast<int>(it - specs.begin());
    if (it == specs.end()) specs.push_back(r);
  }
  if (T <= T_ && specs == specs_ && half_ == s.head_dim / 2) {
    index_ = std::move(index);
    return;
  }
  half_ = s.head_dim / 2;
  T_ = T;
  specs_ = std::move(specs);
  index_ = std::move(index);
  cos_.assign(specs_.size(), {});
  sin_.assign(specs_.size(), {});
  for (size_t i = 0; i < specs_.size(); ++i) {
    cos_[i].resize(static_cast<size_t>(T) * half_);
    sin_[i].resize(cos_[i].size());
    cpu::rope_tables(cos_[i].data(), sin_[i].data(), T, s.head_dim, specs_[i]);
  }
}

}  // namespace tune
