// Frozen base weights of a decoder, held in fp32 on the host (nn.Linear layout: W is [out, in]; the projections may
// instead stay GGML blocks of a GGUF file, model/frozen_linear.h), and the one list of them by role (visit_weights)
// that loading, saving, random init and counting share.
#pragma once
#include <concepts>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "model/frozen_linear.h"
#include "model/lora.h"
#include "model/spec.h"

namespace tune {

struct LayerWeights {
  Tensor input_norm;                    // [H]  pre-attention RMSNorm
  FrozenLinear q, k, v, o;              // q [Nq*D, H], k/v [Nkv*D, H], o [H, Nq*D]
  Tensor q_bias, k_bias, v_bias;        // [Nq*D], [Nkv*D], [Nkv*D]  when spec.qkv_bias
  Tensor o_bias;                        // [H]  when spec.o_bias
  Tensor q_norm, k_norm;                // [D]  per-head RMSNorm when layer.qk_norm
  Tensor attn_out_norm;                 // [H]  norm of the attention output when layer.attn_out_norm
  Tensor mlp_norm;                      // [H]  pre-MLP RMSNorm
  FrozenLinear gate, up, down;          // gate/up [I, H], down [H, I]
  Tensor mlp_out_norm;                  // [H]  norm of the MLP output when layer.mlp_out_norm
};

struct ModelWeights {
  Tensor embed;  // [V, H]  also the LM head when tied
  std::vector<LayerWeights> layers;
  Tensor final_norm;  // [H]
  Tensor lm_head;     // [V, H]  untied LM head; empty when tied
  const Tensor& head() const { return lm_head.empty() ? embed : lm_head; }  // [V, H]
};

// The frozen linear of projection p (the weight a LoRA module on p wraps). L is LayerWeights or const LayerWeights.
template <class L>
  requires std::same_as<std::remove_const_t<L>, LayerWeights>
auto& projection(L& layer, Proj p) {
  switch (p) {
    case Proj::Q: return layer.q;
    case Proj::K: return layer.k;
    case Proj::V: return layer.v;
    case Proj::O: return layer.o;
    case Proj::Gate: return layer.gate;
    case Proj::Up: return layer.up;
    case Proj::Down: return layer.down;
  }
  fail("unknown projection ", static_cast<int>(p));
}

// Whether any projection is kept quantized.
bool has_quantized_linears(const ModelWeights& w);
// Replaces every kept-quantized projection by its dequantized fp32 tensor (before merging or saving).
void dequantize_linears(ModelWeights& w);

enum class WeightRole { Embedding, Norm, Linear, Bias, LmHead };

// Calls f(hf_key, tensor, expected_shape, role) for every weight the spec's model has, in the order random init
// draws them: embed_tokens; per layer input_layernorm, q/k/v/o (each followed by its bias), q_norm, k_norm, the
// attention output norm, the pre-MLP norm, gate, up, down, the MLP output norm; the final norm; an untied lm_head.
// W is ModelWeights or const ModelWeights; w.layers must already have spec.num_layers entries. A Linear's tensor is
// its FrozenLinear's dense fp32 one, empty when the projection is kept quantized (dequantize_linears first).
template <class W, class F>
void visit_weights(const ModelSpec& s, W& w, F&& f) {
  TUNE_CHECK(static_cast<int>(w.layers.size()) == s.num_layers, "model weights have ", w.layers.size(),
             " layers but config.json says num_hidden_layers = ", s.num_layers);
  const int64_t H = s.hidden_size, I = s.intermediate_size, V = s.vocab_size, D = s.head_dim;
  const int64_t Q = s.q_dim(), KV = s.kv_dim();
  const std::string& pre = s.names.prefix;
  f(pre + "embed_tokens.weight", w.embed, Shape{V, H}, WeightRole::Embedding);
  for (int l = 0; l < s.num_layers; ++l) {
    auto& L = w.layers[static_cast<size_t>(l)];
    const LayerSpec& ls = s.layer(l);
    const std::string p = pre + "layers." + std::to_string(l) + ".";
    f(p + "input_layernorm.weight", L.input_norm, Shape{H}, WeightRole::Norm);
    auto proj = [&](const char* name, auto& weight, auto& bias, Shape shape, bool has_bias) {
      const std::string key = p + "self_attn." + name;
      const int64_t out = shape[0];
      f(key + ".weight", weight.dense, std::move(shape), WeightRole::Linear);
      if (has_bias) f(key + ".bias", bias, Shape{out}, WeightRole::Bias);
    };
    proj("q_proj", L.q, L.q_bias, Shape{Q, H}, s.qkv_bias);
    proj("k_proj", L.k, L.k_bias, Shape{KV, H}, s.qkv_bias);
    proj("v_proj", L.v, L.v_bias, Shape{KV, H}, s.qkv_bias);
    proj("o_proj", L.o, L.o_bias, Shape{H, Q}, s.o_bias);
    if (ls.qk_norm) {
      f(p + "self_attn.q_norm.weight", L.q_norm, Shape{D}, WeightRole::Norm);
      f(p + "self_attn.k_norm.weight", L.k_norm, Shape{D}, WeightRole::Norm);
    }
    if (ls.attn_out_norm) f(p + s.names.attn_out_norm + ".weight", L.attn_out_norm, Shape{H}, WeightRole::Norm);
    f(p + s.names.mlp_norm + ".weight", L.mlp_norm, Shape{H}, WeightRole::Norm);
    f(p + "mlp.gate_proj.weight", L.gate.dense, Shape{I, H}, WeightRole::Linear);
    f(p + "mlp.up_proj.weight", L.up.dense, Shape{I, H}, WeightRole::Linear);
    f(p + "mlp.down_proj.weight", L.down.dense, Shape{H, I}, WeightRole::Linear);
    if (ls.mlp_out_norm) f(p + s.names.mlp_out_norm + ".weight", L.mlp_out_norm, Shape{H}, WeightRole::Norm);
  }
  f(pre + "norm.weight", w.final_norm, Shape{H}, WeightRole::Norm);
  if (!s.tie_word_embeddings) f(std::string("lm_head.weight"), w.lm_head, Shape{V, H}, WeightRole::LmHead);
}

}  // namespace tune
