// GemmaModel: the Gemma-1 decoder with LoRA on the CPU in fp32 — forward that keeps activations, hand-written
// backward that produces LoRA and value-head gradients only (frozen weights get input gradients, never weight ones).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "model/batch.h"
#include "model/lora.h"
#include "model/lora_linear.h"
#include "model/model_config.h"
#include "model/value_head.h"
#include "model/weights.h"

namespace tune {

struct ForwardOptions {
  bool training = false;     // enables LoRA dropout and value-head dropout
  float value_head_dropout = 0.0f;  // TRL ValueHead uses 0.1 while training
  uint64_t dropout_seed = 0;  // one seed per micro-batch; each site derives its own stream
};

struct LmLossResult {
  double loss_sum = 0.0;  // Σ cross-entropy over valid targets
  int64_t n_valid = 0;    // number of valid (label != -100) shifted targets
  double mean() const { return loss_sum / static_cast<double>(n_valid); }
};

class GemmaModel {
 public:
  // The model borrows weights, adapter and head; adapter and head may be null.
  GemmaModel(const ModelConfig& cfg, const ModelWeights& weights, LoraAdapter* adapter, ValueHead* head);

  // Runs the decoder over the batch and keeps what backward needs. Afterwards final_hidden() is [B, T, H].
  void forward(const Batch& batch, const ForwardOptions& opts);
  const Tensor& final_hidden() const { return final_; }

  // Tied LM head + causal-LM cross-entropy on batch.labels. With grad_scale != 0 it also accumulates
  // grad_scale · d(loss_sum)/d(final hidden) for backward(). logits (optional) receives [B, T, V].
  LmLossResult lm_head_loss(float grad_scale, Tensor* logits = nullptr);

  // Value head on the final hidden states: values [B, T].
  const Tensor& values();
  // Accumulates value-head weight/bias gradients and d(final hidden) from dvalues [B, T].
  void values_backward(const Tensor& dvalues);

  // Back-propagates the accumulated d(final hidden) through the decoder into the LoRA gradients (accumulated into
  // adapter dA/dB), then clears the final-hidden gradient.
  void backward();

 private:
  struct LayerActs {
    Tensor x;                   // [N, H]  layer input (residual stream)
    Tensor ln1;                 // [N, H]  input_layernorm(x)
    std::vector<float> rstd1;   // [N]
    Tensor q, k, v;             // [N, Nq*D], [N, Nkv*D], [N, Nkv*D]  (q, k after RoPE)
    Tensor probs;               // [B, Nq, T, T]
    Tensor attn;                // [N, Nq*D]  attention output before o_proj
    Tensor h1;                  // [N, H]  x + attention
    Tensor ln2;                 // [N, H]  post_attention_layernorm(h1)
    std::vector<float> rstd2;   // [N]
    Tensor gate, up, act;       // [N, I]  act = gelu(gate) * up
    std::array<LoraLinearCache, kNumProj> lora;
  };

  const LoraModule* lora(int layer, Proj p) const;
  LoraModule* lora_mut(int layer, Proj p);
  void layer_forward(int l, const float* x_in, float* x_out, const ForwardOptions& opts);
  // dx_out: gradient w.r.t. the layer output [N, H]; writes the gradient w.r.t. the layer input into dx_in
  // (nullptr for the first layer, whose input needs none).
  void layer_backward(int l, const float* dx_out, float* dx_in);

  const ModelConfig& cfg_;
  const ModelWeights& w_;
  LoraAdapter* adapter_;
  ValueHead* head_;

  // Per forward:
  Batch batch_;
  ForwardOptions opts_;
  float lora_dropout_ = 0.0f;
  std::vector<LayerActs> acts_;
  Tensor x_final_;                 // [N, H]  residual stream after the last layer
  std::vector<float> rstd_final_;  // [N]
  Tensor final_;                   // [N, H]  model.norm(x_final_)
  Tensor d_final_;                 // [N, H]  accumulated gradient w.r.t. final_
  Tensor values_;                  // [B, T]
  std::vector<uint8_t> head_keep_; // [N, H] value-head dropout keep-mask (empty when off)
  std::vector<float> rope_cos_, rope_sin_;  // [T, D/2]
};

}  // namespace tune
