// GemmaModel: the Gemma-1 decoder with LoRA on the CPU in fp32 — forward that keeps activations, hand-written
// backward that produces LoRA and value-head gradients only (frozen weights get input gradients, never weight ones).
// Activation and gradient buffers live as long as the model and are reused by every call of the same or a smaller
// batch shape: no per-step allocation, and only the buffers that are accumulated into get zeroed.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "kernels/cpu/ops.h"
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
  // d(loss)/d(final hidden) [B, T, H] that backward() consumes, zeroed by forward(): losses computed outside the
  // model (DPO's per-row weighted LM head) accumulate into it.
  Tensor& final_hidden_grad() { return d_final_; }

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
  // d_resid [N, H] holds the gradient w.r.t. the layer output on entry and w.r.t. the layer input on return (left
  // unfinished for the first layer, whose input, the frozen embedding, needs none).
  void layer_backward(int l, float* d_resid);

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
  Tensor head_in_;                 // [N, H] value-head input dropout(final_), when dropout is on
  int rope_T_ = 0;                          // sequence length the RoPE tables were built for
  std::vector<float> rope_cos_, rope_sin_;  // [T, D/2]
  cpu::LmHeadScratch lm_head_scratch_;

  // Backward scratch (every buffer is fully overwritten before it is read, except d_resid_).
  Tensor d_resid_;                // [N, H]  gradient w.r.t. the residual stream
  Tensor d_act_, d_gate_, d_up_;  // [N, I]
  Tensor d_ln_;                   // [N, H]  gradient w.r.t. ln2, then ln1
  Tensor d_attn_, dq_;            // [N, Nq*D]
  Tensor dk_, dv_;                // [N, Nkv*D]
  Tensor d_head_;                 // [N, H]  value-head input gradient
  std::vector<float> d_scores_;   // [T, T]  attention score gradient of one head
  LoraScratch lora_scratch_;
};

}  // namespace tune
