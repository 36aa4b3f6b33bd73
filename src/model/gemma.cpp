#include "model/gemma.h"

#include <cmath>

#include "core/error.h"
#include "kernels/cpu/ops.h"

namespace tune {

namespace {

// Independent dropout stream per (layer, site) from one micro-batch seed.
uint64_t site_seed(uint64_t seed, int layer, int site) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(layer * 16 + site + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
constexpr int kValueHeadSite = 15;

// Gives t the shape s, reusing its storage: no reallocation unless it grows, and no zero-fill of the elements it
// already has (callers overwrite them, or zero() what they accumulate into).
void reuse(Tensor& t, Shape s) {
  t.data.resize(static_cast<size_t>(shape_numel(s)));
  t.shape = std::move(s);
}

}  // namespace

GemmaModel::GemmaModel(const ModelConfig& cfg, const ModelWeights& weights, LoraAdapter* adapter, ValueHead* head)
    : cfg_(cfg), w_(weights), adapter_(adapter), head_(head) {
  TUNE_CHECK(static_cast<int>(weights.layers.size()) == cfg.num_layers, "model has ", weights.layers.size(),
             " layers of weights but config.json says num_hidden_layers = ", cfg.num_layers);
  if (cfg.num_layers > 0) cfg.layer(cfg.num_layers - 1);  // the per-layer spec covers every layer
  if (adapter_) {
    TUNE_CHECK(static_cast<int>(adapter_->layers.size()) == cfg.num_layers, "adapter covers ",
               adapter_->layers.size(), " layers but the model has ", cfg.num_layers);
    lora_dropout_ = adapter_->config.lora_dropout;
  }
}

const LoraModule* GemmaModel::lora(int layer, Proj p) const {
  if (!adapter_) return nullptr;
  const auto& m = adapter_->layers[layer][static_cast<int>(p)];
  return m ? &*m : nullptr;
}

LoraModule* GemmaModel::lora_mut(int layer, Proj p) {
  if (!adapter_) return nullptr;
  auto& m = adapter_->layers[layer][static_cast<int>(p)];
  return m ? &*m : nullptr;
}

void GemmaModel::forward(const Batch& batch, const ForwardOptions& opts) {
  batch.validate();
  batch_ = batch;
  opts_ = opts;
  const int N = batch.tokens(), H = cfg_.hidden_size, L = cfg_.num_layers;
  rope_.build(cfg_, batch.T);

  acts_.resize(static_cast<size_t>(L));
  for (auto& a : acts_) reuse(a.x, {N, H});
  reuse(x_final_, {N, H});
  cpu::embedding_forward(acts_[0].x.ptr(), batch.input_ids.data(), w_.embed.ptr(), N, H, cfg_.vocab_size,
                         cfg_.embed_scale);
  for (int l = 0; l < L; ++l) {
    float* out = l + 1 < L ? acts_[l + 1].x.ptr() : x_final_.ptr();
    layer_forward(l, acts_[l].x.ptr(), out, opts);
  }
  reuse(final_, {N, H});
  rstd_final_.resize(static_cast<size_t>(N));
  cpu::rmsnorm_forward(final_.ptr(), rstd_final_.data(), x_final_.ptr(), w_.final_norm.ptr(), N, H, cfg_.rms_norm_eps,
                       cfg_.norm_offset());
  reuse(d_final_, {N, H});
  d_final_.zero();
  values_ = Tensor();
}

void GemmaModel::layer_forward(int l, const float* x_in, float* x_out, const ForwardOptions& opts) {
  LayerActs& a = acts_[l];
  const LayerSpec& ls = cfg_.layer(l);
  const int B = batch_.B, T = batch_.T, N = B * T, H = cfg_.hidden_size, I = cfg_.intermediate_size;
  const int Nq = cfg_.num_heads, Nkv = cfg_.num_kv_heads, D = cfg_.head_dim;
  const float p = opts.training ? lora_dropout_ : 0.0f;
  const LinearFn linear = [&](float* y, const float* x, const FrozenLinear& W, Proj proj) {
    lora_linear_forward(y, x, W, lora(l, proj), N, p, site_seed(opts.dropout_seed, l, static_cast<int>(proj)),
                        &a.lora[static_cast<int>(proj)], lora_scratch_);
  };
  reuse(a.ln1, {N, H});
  a.rstd1.resize(static_cast<size_t>(N));
  reuse(a.q, {N, cfg_.q_dim()});
  reuse(a.k, {N, cfg_.kv_dim()});
  reuse(a.v, {N, cfg_.kv_dim()});
  reuse(a.attn, {N, cfg_.q_dim()});
  reuse(a.probs, {B, Nq, T, T});
  reuse(a.h1, {N, H});
  reuse(a.ln2, {N, H});
  a.rstd2.resize(static_cast<size_t>(N));
  reuse(a.gate, {N, I});
  reuse(a.up, {N, I});
  reuse(a.act, {N, I});
  BlockBuffers b{.ln1 = a.ln1.ptr(), .rstd1 = a.rstd1.data(), .q = a.q.ptr(), .k = a.k.ptr(), .v = a.v.ptr(),
                 .attn = a.attn.ptr(), .h1 = a.h1.ptr(), .ln2 = a.ln2.ptr(), .rstd2 = a.rstd2.data(),
                 .gate = a.gate.ptr(), .up = a.up.ptr(), .act = a.act.ptr()};
  if (ls.qk_norm) {
    reuse(a.q_pre, {N, cfg_.q_dim()});
    reuse(a.k_pre, {N, cfg_.kv_dim()});
    a.q_rstd.resize(static_cast<size_t>(N) * Nq);
    a.k_rstd.resize(static_cast<size_t>(N) * Nkv);
    b.q_pre = a.q_pre.ptr(), b.k_pre = a.k_pre.ptr(), b.q_rstd = a.q_rstd.data(), b.k_rstd = a.k_rstd.data();
  }
  if (ls.attn_out_norm) {
    reuse(a.o, {N, H});
    a.rstd_o.resize(static_cast<size_t>(N));
    b.o = a.o.ptr(), b.rstd_o = a.rstd_o.data();
  }
  if (ls.mlp_out_norm) {
    reuse(a.down, {N, H});
    a.rstd_d.resize(static_cast<size_t>(N));
    b.down = a.down.ptr(), b.rstd_d = a.rstd_d.data();
  }
  block_attention_in(cfg_, l, w_.layers[l], linear, x_in, B, T, rope_.cos(l), rope_.sin(l), b);
  cpu::attention_forward(a.attn.ptr(), a.probs.ptr(), a.q.ptr(), a.k.ptr(), a.v.ptr(), batch_.attention_mask.data(),
                         B, T, Nq, Nkv, D, cfg_.attn_scale, ls.sliding_window, cfg_.attn_softcap);
  block_attention_out_mlp(cfg_, l, w_.layers[l], linear, x_in, N, b, x_out);
}

LmLossResult GemmaModel::lm_head_loss(float grad_scale, Tensor* logits) {
  TUNE_CHECK(!batch_.labels.empty(), "the LM loss needs labels, but the batch has none");
  const int B = batch_.B, T = batch_.T, H = cfg_.hidden_size, V = cfg_.vocab_size;
  if (logits) reuse(*logits, {B, T, V});
  LmLossResult r;
  r.loss_sum = cpu::lm_head_cross_entropy(grad_scale != 0.0f ? d_final_.ptr() : nullptr,
                                          logits ? logits->ptr() : nullptr, final_.ptr(), w_.head().ptr(),
                                          batch_.labels.data(), B, T, H, V, grad_scale, cfg_.final_softcap,
                                          &r.n_valid, &lm_head_scratch_);
  return r;
}

const Tensor& GemmaModel::values() {
  TUNE_CHECK(head_ != nullptr, "values() needs a value head, but the model was built without one");
  const int N = batch_.tokens(), H = cfg_.hidden_size;
  const int64_t n = static_cast<int64_t>(N) * H;
  const float p = opts_.training ? opts_.value_head_dropout : 0.0f;
  head_keep_.clear();
  if (p > 0.0f) {
    head_keep_.resize(static_cast<size_t>(n));
    cpu::dropout_mask(head_keep_.data(), n, p, site_seed(opts_.dropout_seed, cfg_.num_layers, kValueHeadSite), 0);
    reuse(head_in_, {N, H});
    cpu::dropout_apply(head_in_.ptr(), final_.ptr(), head_keep_.data(), n, p);
  }
  const float* x = head_keep_.empty() ? final_.ptr() : head_in_.ptr();
  values_ = Tensor({batch_.B, batch_.T});
  cpu::linear_forward(values_.ptr(), x, head_->weight.ptr(), N, H, 1, 1.0f, false);  // [N, 1]
  for (int i = 0; i < N; ++i) values_.data[i] += head_->bias.data[0];
  return values_;
}

void GemmaModel::values_backward(const Tensor& dvalues) {
  TUNE_CHECK(head_ != nullptr && !values_.empty(), "values_backward() needs values() first");
  TUNE_CHECK(dvalues.numel() == values_.numel(), "dvalues has ", dvalues.numel(), " entries, expected ",
             values_.numel());
  const int N = batch_.tokens(), H = cfg_.hidden_size;
  const int64_t n = static_cast<int64_t>(N) * H;
  const float p = opts_.value_head_dropout;
  const float* x = head_keep_.empty() ? final_.ptr() : head_in_.ptr();
  cpu::linear_backward_weight(head_->dweight.ptr(), dvalues.ptr(), x, N, H, 1, 1.0f);
  double db = 0.0;
  for (int i = 0; i < N; ++i) db += dvalues.data[i];
  head_->dbias.data[0] += static_cast<float>(db);
  reuse(d_head_, {N, H});
  cpu::linear_backward_input(d_head_.ptr(), dvalues.ptr(), head_->weight.ptr(), N, H, 1, 1.0f, false);
  if (!head_keep_.empty()) cpu::dropout_apply(d_head_.ptr(), d_head_.ptr(), head_keep_.data(), n, p);
  add_into(d_final_.ptr(), d_head_.ptr(), n);
}

void GemmaModel::backward() {
  const int N = batch_.tokens(), H = cfg_.hidden_size, L = cfg_.num_layers;
  reuse(d_resid_, {N, H});
  d_resid_.zero();
  cpu::rmsnorm_backward(d_resid_.ptr(), d_final_.ptr(), x_final_.ptr(), w_.final_norm.ptr(), rstd_final_.data(), N,
                        H, cfg_.norm_offset());
  for (int l = L - 1; l >= 0; --l) layer_backward(l, d_resid_.ptr());
  d_final_.zero();
}

void GemmaModel::layer_backward(int l, float* d_resid) {
  LayerActs& a = acts_[l];
  const LayerWeights& lw = w_.layers[l];
  const LayerSpec& ls = cfg_.layer(l);
  const int B = batch_.B, T = batch_.T, N = B * T, H = cfg_.hidden_size, I = cfg_.intermediate_size;
  const int Nq = cfg_.num_heads, Nkv = cfg_.num_kv_heads, D = cfg_.head_dim;
  const float p = opts_.training ? lora_dropout_ : 0.0f, off = cfg_.norm_offset();
  auto linear_back = [&](float* dx, bool accumulate, const float* dy, const float* x, const FrozenLinear& W,
                         Proj proj) {
    lora_linear_backward(dx, accumulate, dy, x, W, lora_mut(l, proj), N, p, a.lora[static_cast<int>(proj)],
                         lora_scratch_);
  };
  // d(output) of a sub-block through its optional output norm: into d_norm_out_ when there is one.
  auto through_out_norm = [&](bool has_norm, const Tensor& pre, const Tensor& norm_w, const std::vector<float>& rstd) {
    if (!has_norm) return static_cast<const float*>(d_resid);
    reuse(d_norm_out_, {N, H});
    d_norm_out_.zero();
    cpu::rmsnorm_backward(d_norm_out_.ptr(), d_resid, pre.ptr(), norm_w.ptr(), rstd.data(), N, H, off);
    return static_cast<const float*>(d_norm_out_.ptr());
  };
  reuse(d_act_, {N, I});
  reuse(d_gate_, {N, I});
  reuse(d_up_, {N, I});
  reuse(d_ln_, {N, H});
  reuse(d_attn_, {N, cfg_.q_dim()});
  reuse(dq_, {N, cfg_.q_dim()});
  reuse(dk_, {N, cfg_.kv_dim()});
  reuse(dv_, {N, cfg_.kv_dim()});

  // MLP block: d_resid becomes d(h1) = d(out) + the norm path.
  const float* d_down = through_out_norm(ls.mlp_out_norm, a.down, lw.mlp_out_norm, a.rstd_d);
  linear_back(d_act_.ptr(), false, d_down, a.act.ptr(), lw.down, Proj::Down);
  cpu::geglu_backward(d_gate_.ptr(), d_up_.ptr(), d_act_.ptr(), a.gate.ptr(), a.up.ptr(), static_cast<int64_t>(N) * I,
                      cfg_.activation);
  linear_back(d_ln_.ptr(), false, d_gate_.ptr(), a.ln2.ptr(), lw.gate, Proj::Gate);
  linear_back(d_ln_.ptr(), true, d_up_.ptr(), a.ln2.ptr(), lw.up, Proj::Up);
  cpu::rmsnorm_backward(d_resid, d_ln_.ptr(), a.h1.ptr(), lw.mlp_norm.ptr(), a.rstd2.data(), N, H, off);

  // Attention block: d_resid becomes d(x) = d(h1) + the norm path. Biases are frozen: dy passes through them.
  const float* d_o = through_out_norm(ls.attn_out_norm, a.o, lw.attn_out_norm, a.rstd_o);
  linear_back(d_attn_.ptr(), false, d_o, a.attn.ptr(), lw.o, Proj::O);
  cpu::attention_backward(dq_.ptr(), dk_.ptr(), dv_.ptr(), d_attn_.ptr(), a.probs.ptr(), a.q.ptr(), a.k.ptr(),
                          a.v.ptr(), B, T, Nq, Nkv, D, cfg_.attn_scale, cfg_.attn_softcap, &d_scores_);
  cpu::rope_backward(dq_.ptr(), rope_.cos(l), rope_.sin(l), B, T, Nq, D);
  cpu::rope_backward(dk_.ptr(), rope_.cos(l), rope_.sin(l), B, T, Nkv, D);
  const float* dq_lin = dq_.ptr();
  const float* dk_lin = dk_.ptr();
  if (ls.qk_norm) {  // per-head norms over D: rows N*Nq and N*Nkv
    reuse(dq_pre_, {N, cfg_.q_dim()});
    reuse(dk_pre_, {N, cfg_.kv_dim()});
    dq_pre_.zero();
    dk_pre_.zero();
    cpu::rmsnorm_backward(dq_pre_.ptr(), dq_.ptr(), a.q_pre.ptr(), lw.q_norm.ptr(), a.q_rstd.data(), N * Nq, D, off);
    cpu::rmsnorm_backward(dk_pre_.ptr(), dk_.ptr(), a.k_pre.ptr(), lw.k_norm.ptr(), a.k_rstd.data(), N * Nkv, D, off);
    dq_lin = dq_pre_.ptr();
    dk_lin = dk_pre_.ptr();
  }
  // The first layer's input is the frozen embedding: only the LoRA gradients of q/k/v are needed there.
  float* d_ln1 = l > 0 ? d_ln_.ptr() : nullptr;
  linear_back(d_ln1, false, dq_lin, a.ln1.ptr(), lw.q, Proj::Q);
  linear_back(d_ln1, true, dk_lin, a.ln1.ptr(), lw.k, Proj::K);
  linear_back(d_ln1, true, dv_.ptr(), a.ln1.ptr(), lw.v, Proj::V);
  if (l > 0) cpu::rmsnorm_backward(d_resid, d_ln1, a.x.ptr(), lw.input_norm.ptr(), a.rstd1.data(), N, H, off);
}

}  // namespace tune
