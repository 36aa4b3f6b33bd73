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

void add_into(float* dst, const float* src, int64_t n) {
#pragma omp parallel for simd schedule(static)
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

  rope_cos_.resize(static_cast<size_t>(batch.T) * cfg_.head_dim / 2);
  rope_sin_.resize(rope_cos_.size());
  cpu::rope_tables(rope_cos_.data(), rope_sin_.data(), batch.T, cfg_.head_dim, cfg_.rope_theta);

  acts_.resize(static_cast<size_t>(L));
  for (auto& a : acts_) a.x = Tensor({N, H});
  x_final_ = Tensor({N, H});
  // Gemma scales token embeddings by sqrt(H), as an fp32 scalar in the fp32 path (not the tied LM head).
  const float embed_scale = static_cast<float>(std::sqrt(static_cast<double>(H)));
  cpu::embedding_forward(acts_[0].x.ptr(), batch.input_ids.data(), w_.embed.ptr(), N, H, cfg_.vocab_size,
                         embed_scale);
  for (int l = 0; l < L; ++l) {
    float* out = l + 1 < L ? acts_[l + 1].x.ptr() : x_final_.ptr();
    layer_forward(l, acts_[l].x.ptr(), out, opts);
  }
  final_ = Tensor({N, H});
  rstd_final_.resize(static_cast<size_t>(N));
  cpu::rmsnorm_forward(final_.ptr(), rstd_final_.data(), x_final_.ptr(), w_.final_norm.ptr(), N, H, cfg_.rms_norm_eps);
  d_final_ = Tensor({N, H});
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
                        &a.lora[static_cast<int>(proj)]);
  };

  // Attention block: h1 = x + o_proj(attention(rope(q), rope(k), v)) on input_layernorm(x).
  a.ln1 = Tensor({N, H});
  a.rstd1.resize(static_cast<size_t>(N));
  cpu::rmsnorm_forward(a.ln1.ptr(), a.rstd1.data(), x_in, lw.input_norm.ptr(), N, H, cfg_.rms_norm_eps);
  a.q = Tensor({N, cfg_.q_dim()});
  a.k = Tensor({N, cfg_.kv_dim()});
  a.v = Tensor({N, cfg_.kv_dim()});
  linear(a.q.ptr(), a.ln1.ptr(), lw.q, Proj::Q);
  linear(a.k.ptr(), a.ln1.ptr(), lw.k, Proj::K);
  linear(a.v.ptr(), a.ln1.ptr(), lw.v, Proj::V);
  cpu::rope_forward(a.q.ptr(), rope_cos_.data(), rope_sin_.data(), B, T, Nq, D);
  cpu::rope_forward(a.k.ptr(), rope_cos_.data(), rope_sin_.data(), B, T, Nkv, D);
  a.attn = Tensor({N, cfg_.q_dim()});
  a.probs = Tensor({B, Nq, T, T});
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  cpu::attention_forward(a.attn.ptr(), a.probs.ptr(), a.q.ptr(), a.k.ptr(), a.v.ptr(), batch_.attention_mask.data(),
                         B, T, Nq, Nkv, D, scale);
  a.h1 = Tensor({N, H});
  linear(a.h1.ptr(), a.attn.ptr(), lw.o, Proj::O);
  add_into(a.h1.ptr(), x_in, static_cast<int64_t>(N) * H);

  // MLP block: out = h1 + down(gelu(gate(ln2)) * up(ln2)) on post_attention_layernorm(h1).
  a.ln2 = Tensor({N, H});
  a.rstd2.resize(static_cast<size_t>(N));
  cpu::rmsnorm_forward(a.ln2.ptr(), a.rstd2.data(), a.h1.ptr(), lw.post_attn_norm.ptr(), N, H, cfg_.rms_norm_eps);
  a.gate = Tensor({N, I});
  a.up = Tensor({N, I});
  a.act = Tensor({N, I});
  linear(a.gate.ptr(), a.ln2.ptr(), lw.gate, Proj::Gate);
  linear(a.up.ptr(), a.ln2.ptr(), lw.up, Proj::Up);
  cpu::geglu_forward(a.act.ptr(), a.gate.ptr(), a.up.ptr(), static_cast<int64_t>(N) * I, cfg_.activation);
  linear(x_out, a.act.ptr(), lw.down, Proj::Down);
  add_into(x_out, a.h1.ptr(), static_cast<int64_t>(N) * H);
}

LmLossResult GemmaModel::lm_head_loss(float grad_scale, Tensor* logits) {
  TUNE_CHECK(!batch_.labels.empty(), "the LM loss needs labels, but the batch has none");
  const int B = batch_.B, T = batch_.T, H = cfg_.hidden_size, V = cfg_.vocab_size;
  if (logits) *logits = Tensor({B, T, V});
  LmLossResult r;
  r.loss_sum = cpu::lm_head_cross_entropy(grad_scale != 0.0f ? d_final_.ptr() : nullptr,
                                          logits ? logits->ptr() : nullptr, final_.ptr(), w_.embed.ptr(),
                                          batch_.labels.data(), B, T, H, V, grad_scale, &r.n_valid);
  return r;
}

const Tensor& GemmaModel::values() {
  TUNE_CHECK(head_ != nullptr, "values() needs a value head, but the model was built without one");
  const int N = batch_.tokens(), H = cfg_.hidden_size;
  const float p = opts_.training ? opts_.value_head_dropout : 0.0f;
  head_keep_.clear();
  std::vector<float> dropped;
  const float* x = final_.ptr();
  if (p > 0.0f) {
    head_keep_.resize(static_cast<size_t>(N) * H);
    cpu::dropout_mask(head_keep_.data(), static_cast<int64_t>(N) * H, p,
                      site_seed(opts_.dropout_seed, cfg_.num_layers, kValueHeadSite), 0);
    dropped.resize(head_keep_.size());
    cpu::dropout_apply(dropped.data(), x, head_keep_.data(), static_cast<int64_t>(N) * H, p);
    x = dropped.data();
  }
  values_ = Tensor({batch_.B, batch_.T});
  cpu::linear_forward(values_.ptr(), x, head_->weight.ptr(), N, H, 1, 1.0f, false);  // [N, 1]
  for (int n = 0; n < N; ++n) values_.data[n] += head_->bias.data[0];
  return values_;
}

void GemmaModel::values_backward(const Tensor& dvalues) {
  TUNE_CHECK(head_ != nullptr && !values_.empty(), "values_backward() needs values() first");
  TUNE_CHECK(dvalues.numel() == values_.numel(), "dvalues has ", dvalues.numel(), " entries, expected ",
             values_.numel());
  const int N = batch_.tokens(), H = cfg_.hidden_size;
  const int64_t n = static_cast<int64_t>(N) * H;
  const float p = opts_.value_head_dropout;
  std::vector<float> x(final_.data);
  if (!head_keep_.empty()) cpu::dropout_apply(x.data(), x.data(), head_keep_.data(), n, p);
  cpu::linear_backward_weight(head_->dweight.ptr(), dvalues.ptr(), x.data(), N, H, 1, 1.0f);
  double db = 0.0;
  for (int i = 0; i < N; ++i) db += dvalues.data[i];
  head_->dbias.data[0] += static_cast<float>(db);
  std::vector<float> dx(static_cast<size_t>(n));  // [N, H]
  cpu::linear_backward_input(dx.data(), dvalues.ptr(), head_->weight.ptr(), N, H, 1, 1.0f, false);
  if (!head_keep_.empty()) cpu::dropout_apply(dx.data(), dx.data(), head_keep_.data(), n, p);
  add_into(d_final_.ptr(), dx.data(), n);
}

void GemmaModel::backward() {
  const int N = batch_.tokens(), H = cfg_.hidden_size, L = cfg_.num_layers;
  Tensor d_cur({N, H}), d_prev({N, H});  // gradients w.r.t. the residual stream
  cpu::rmsnorm_backward(d_cur.ptr(), d_final_.ptr(), x_final_.ptr(), w_.final_norm.ptr(), rstd_final_.data(), N, H);
  for (int l = L - 1; l >= 0; --l) {
    layer_backward(l, d_cur.ptr(), l > 0 ? d_prev.ptr() : nullptr);
    std::swap(d_cur, d_prev);
  }
  d_final_.zero();
}

void GemmaModel::layer_backward(int l, const float* dx_out, float* dx_in) {
  LayerActs& a = acts_[l];
  const LayerWeights& lw = w_.layers[l];
  const int B = batch_.B, T = batch_.T, N = B * T, H = cfg_.hidden_size, I = cfg_.intermediate_size;
  const int Nq = cfg_.num_heads, Nkv = cfg_.num_kv_heads, D = cfg_.head_dim;
  const int64_t nH = static_cast<int64_t>(N) * H;
  const float p = opts_.training ? lora_dropout_ : 0.0f;
  std::vector<float> scratch;
  auto linear_back = [&](float* dx, const float* dy, const float* x, const Tensor& W, Proj proj) {
    lora_linear_backward(dx, dy, x, W, lora_mut(l, proj), N, p, a.lora[static_cast<int>(proj)], scratch);
  };

  // MLP block. d_h1 starts as the residual gradient and collects the norm path.
  Tensor d_h1({N, H});
  std::copy(dx_out, dx_out + nH, d_h1.ptr());
  Tensor d_act({N, I}), d_gate({N, I}), d_up({N, I}), d_ln2({N, H});
  linear_back(d_act.ptr(), dx_out, a.act.ptr(), lw.down, Proj::Down);
  cpu::geglu_backward(d_gate.ptr(), d_up.ptr(), d_act.ptr(), a.gate.ptr(), a.up.ptr(), static_cast<int64_t>(N) * I,
                      cfg_.activation);
  linear_back(d_ln2.ptr(), d_gate.ptr(), a.ln2.ptr(), lw.gate, Proj::Gate);
  linear_back(d_ln2.ptr(), d_up.ptr(), a.ln2.ptr(), lw.up, Proj::Up);
  cpu::rmsnorm_backward(d_h1.ptr(), d_ln2.ptr(), a.h1.ptr(), lw.post_attn_norm.ptr(), a.rstd2.data(), N, H);

  // Attention block.
  Tensor d_attn({N, cfg_.q_dim()});
  linear_back(d_attn.ptr(), d_h1.ptr(), a.attn.ptr(), lw.o, Proj::O);
  Tensor dq({N, cfg_.q_dim()}), dk({N, cfg_.kv_dim()}), dv({N, cfg_.kv_dim()});
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  cpu::attention_backward(dq.ptr(), dk.ptr(), dv.ptr(), d_attn.ptr(), a.probs.ptr(), a.q.ptr(), a.k.ptr(), a.v.ptr(),
                          B, T, Nq, Nkv, D, scale);
  cpu::rope_backward(dq.ptr(), rope_cos_.data(), rope_sin_.data(), B, T, Nq, D);
  cpu::rope_backward(dk.ptr(), rope_cos_.data(), rope_sin_.data(), B, T, Nkv, D);
  // The first layer's input is the frozen embedding: only the LoRA gradients of q/k/v are needed there.
  Tensor d_ln1;
  if (dx_in) d_ln1 = Tensor({N, H});
  float* d_ln1_ptr = dx_in ? d_ln1.ptr() : nullptr;
  linear_back(d_ln1_ptr, dq.ptr(), a.ln1.ptr(), lw.q, Proj::Q);
  linear_back(d_ln1_ptr, dk.ptr(), a.ln1.ptr(), lw.k, Proj::K);
  linear_back(d_ln1_ptr, dv.ptr(), a.ln1.ptr(), lw.v, Proj::V);
  if (!dx_in) return;
  std::copy(d_h1.ptr(), d_h1.ptr() + nH, dx_in);
  cpu::rmsnorm_backward(dx_in, d_ln1.ptr(), a.x.ptr(), lw.input_norm.ptr(), a.rstd1.data(), N, H);
}

}  // namespace tune
