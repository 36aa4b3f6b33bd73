#include "model/gemma.h"

#include <cmath>

#include "core/error.h"
#include "core/threads.h"
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

void add_into(float* dst, const float* src, int64_t n) {
#pragma omp parallel for simd schedule(static) if (parallel : parallel_worth(n))
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

}  // namespace

GemmaModel::GemmaModel(const ModelConfig& cfg, const ModelWeights& weights, LoraAdapter* adapter, ValueHead* head)
    : cfg_(cfg), w_(weights), adapter_(adapter), head_(head) {
  TUNE_CHECK(static_cast<int>(weights.layers.size()) == cfg.num_layers, "model has ", weights.layers.size(),
             " layers of weights but config.json says num_hidden_layers = ", cfg.num_layers);
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

  if (rope_T_ != batch.T) {
    rope_cos_.resize(static_cast<size_t>(batch.T) * cfg_.head_dim / 2);
    rope_sin_.resize(rope_cos_.size());
    cpu::rope_tables(rope_cos_.data(), rope_sin_.data(), batch.T, cfg_.head_dim, cfg_.rope_theta);
    rope_T_ = batch.T;
  }

  acts_.resize(static_cast<size_t>(L));
  for (auto& a : acts_) reuse(a.x, {N, H});
  reuse(x_final_, {N, H});
  // Gemma scales token embeddings by sqrt(H), as an fp32 scalar in the fp32 path (not the tied LM head).
  const float embed_scale = static_cast<float>(std::sqrt(static_cast<double>(H)));
  cpu::embedding_forward(acts_[0].x.ptr(), batch.input_ids.data(), w_.embed.ptr(), N, H, cfg_.vocab_size,
                         embed_scale);
  for (int l = 0; l < L; ++l) {
    float* out = l + 1 < L ? acts_[l + 1].x.ptr() : x_final_.ptr();
    layer_forward(l, acts_[l].x.ptr(), out, opts);
  }
  reuse(final_, {N, H});
  rstd_final_.resize(static_cast<size_t>(N));
  cpu::rmsnorm_forward(final_.ptr(), rstd_final_.data(), x_final_.ptr(), w_.final_norm.ptr(), N, H, cfg_.rms_norm_eps);
  reuse(d_final_, {N, H});
  d_final_.zero();
  values_ = Tensor();
}

void GemmaModel::layer_forward(int l, const float* x_in, float* x_out, const ForwardOptions& opts) {
  LayerActs& a = acts_[l];
  const LayerWeights& lw = w_.layers[l];
  const int B = batch_.B, T = batch_.T, N = B * T, H = cfg_.hidden_size, I = cfg_.intermediate_size;
  const int Nq = cfg_.num_heads, Nkv = cfg_.num_kv_heads, D = cfg_.head_dim;
  const float p = opts.training ? lora_dropout_ : 0.0f;
  auto linear = [&](float* y, const float* x, const Tensor& W, Proj proj) {
    lora_linear_forward(y, x, W, lora(l, proj), N, p, site_seed(opts.dropout_seed, l, static_cast<int>(proj)),
                        &a.lora[static_cast<int>(proj)], lora_scratch_);
  };

  // Attention block: h1 = x + o_proj(attention(rope(q), rope(k), v)) on input_layernorm(x).
  reuse(a.ln1, {N, H});
  a.rstd1.resize(static_cast<size_t>(N));
  cpu::rmsnorm_forward(a.ln1.ptr(), a.rstd1.data(), x_in, lw.input_norm.ptr(), N, H, cfg_.rms_norm_eps);
  reuse(a.q, {N, cfg_.q_dim()});
  reuse(a.k, {N, cfg_.kv_dim()});
  reuse(a.v, {N, cfg_.kv_dim()});
  linear(a.q.ptr(), a.ln1.ptr(), lw.q, Proj::Q);
  linear(a.k.ptr(), a.ln1.ptr(), lw.k, Proj::K);
  linear(a.v.ptr(), a.ln1.ptr(), lw.v, Proj::V);
  cpu::rope_forward(a.q.ptr(), rope_cos_.data(), rope_sin_.data(), B, T, Nq, D);
  cpu::rope_forward(a.k.ptr(), rope_cos_.data(), rope_sin_.data(), B, T, Nkv, D);
  reuse(a.attn, {N, cfg_.q_dim()});
  reuse(a.probs, {B, Nq, T, T});
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  cpu::attention_forward(a.attn.ptr(), a.probs.ptr(), a.q.ptr(), a.k.ptr(), a.v.ptr(), batch_.attention_mask.data(),
                         B, T, Nq, Nkv, D, scale);
  reuse(a.h1, {N, H});
  linear(a.h1.ptr(), a.attn.ptr(), lw.o, Proj::O);
  add_into(a.h1.ptr(), x_in, static_cast<int64_t>(N) * H);

  // MLP block: out = h1 + down(gelu(gate(ln2)) * up(ln2)) on post_attention_layernorm(h1).
  reuse(a.ln2, {N, H});
  a.rstd2.resize(static_cast<size_t>(N));
  cpu::rmsnorm_forward(a.ln2.ptr(), a.rstd2.data(), a.h1.ptr(), lw.post_attn_norm.ptr(), N, H, cfg_.rms_norm_eps);
  reuse(a.gate, {N, I});
  reuse(a.up, {N, I});
  reuse(a.act, {N, I});
  linear(a.gate.ptr(), a.ln2.ptr(), lw.gate, Proj::Gate);
  linear(a.up.ptr(), a.ln2.ptr(), lw.up, Proj::Up);
  cpu::geglu_forward(a.act.ptr(), a.gate.ptr(), a.up.ptr(), static_cast<int64_t>(N) * I, cfg_.activation);
  linear(x_out, a.act.ptr(), lw.down, Proj::Down);
  add_into(x_out, a.h1.ptr(), static_cast<int64_t>(N) * H);
}

LmLossResult GemmaModel::lm_head_loss(float grad_scale, Tensor* logits) {
  TUNE_CHECK(!batch_.labels.empty(), "the LM loss needs labels, but the batch has none");
  const int B = batch_.B, T = batch_.T, H = cfg_.hidden_size, V = cfg_.vocab_size;
  if (logits) reuse(*logits, {B, T, V});
  LmLossResult r;
  r.loss_sum = cpu::lm_head_cross_entropy(grad_scale != 0.0f ? d_final_.ptr() : nullptr,
                                          logits ? logits->ptr() : nullptr, final_.ptr(), w_.embed.ptr(),
                                          batch_.labels.data(), B, T, H, V, grad_scale, &r.n_valid,
                                          &lm_head_scratch_);
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
                        H);
  for (int l = L - 1; l >= 0; --l) layer_backward(l, d_resid_.ptr());
  d_final_.zero();
}

void GemmaModel::layer_backward(int l, float* d_resid) {
  LayerActs& a = acts_[l];
  const LayerWeights& lw = w_.layers[l];
  const int B = batch_.B, T = batch_.T, N = B * T, H = cfg_.hidden_size, I = cfg_.intermediate_size;
  const int Nq = cfg_.num_heads, Nkv = cfg_.num_kv_heads, D = cfg_.head_dim;
  const float p = opts_.training ? lora_dropout_ : 0.0f;
  auto linear_back = [&](float* dx, bool accumulate, const float* dy, const float* x, const Tensor& W, Proj proj) {
    lora_linear_backward(dx, accumulate, dy, x, W, lora_mut(l, proj), N, p, a.lora[static_cast<int>(proj)],
                         lora_scratch_);
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
  linear_back(d_act_.ptr(), false, d_resid, a.act.ptr(), lw.down, Proj::Down);
  cpu::geglu_backward(d_gate_.ptr(), d_up_.ptr(), d_act_.ptr(), a.gate.ptr(), a.up.ptr(), static_cast<int64_t>(N) * I,
                      cfg_.activation);
  linear_back(d_ln_.ptr(), false, d_gate_.ptr(), a.ln2.ptr(), lw.gate, Proj::Gate);
  linear_back(d_ln_.ptr(), true, d_up_.ptr(), a.ln2.ptr(), lw.up, Proj::Up);
  cpu::rmsnorm_backward(d_resid, d_ln_.ptr(), a.h1.ptr(), lw.post_attn_norm.ptr(), a.rstd2.data(), N, H);

  // Attention block: d_resid becomes d(x) = d(h1) + the norm path.
  linear_back(d_attn_.ptr(), false, d_resid, a.attn.ptr(), lw.o, Proj::O);
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  cpu::attention_backward(dq_.ptr(), dk_.ptr(), dv_.ptr(), d_attn_.ptr(), a.probs.ptr(), a.q.ptr(), a.k.ptr(),
                          a.v.ptr(), B, T, Nq, Nkv, D, scale, &d_scores_);
  cpu::rope_backward(dq_.ptr(), rope_cos_.data(), rope_sin_.data(), B, T, Nq, D);
  cpu::rope_backward(dk_.ptr(), rope_cos_.data(), rope_sin_.data(), B, T, Nkv, D);
  // The first layer's input is the frozen embedding: only the LoRA gradients of q/k/v are needed there.
  float* d_ln1 = l > 0 ? d_ln_.ptr() : nullptr;
  linear_back(d_ln1, false, dq_.ptr(), a.ln1.ptr(), lw.q, Proj::Q);
  linear_back(d_ln1, true, dk_.ptr(), a.ln1.ptr(), lw.k, Proj::K);
  linear_back(d_ln1, true, dv_.ptr(), a.ln1.ptr(), lw.v, Proj::V);
  if (l > 0) cpu::rmsnorm_backward(d_resid, d_ln1, a.x.ptr(), lw.input_norm.ptr(), a.rstd1.data(), N, H);
}

}  // namespace tune
