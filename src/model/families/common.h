// config.json readers the family parsers share: dims, token ids, activation names, RoPE objects, layer types.
#pragma once
#include <functional>
#include <vector>

#include "io/config_reader.h"
#include "model/spec.h"

namespace tune::family {

// What a family's HF config class defaults to when config.json omits a key.
struct Defaults {
  bool tie_word_embeddings = false;
  int pad_token_id = 0, bos_token_id = 1, eos_token_id = 2;
  double rope_theta = 10000.0;
  int max_position_embeddings = 8192;
};

// vocab/hidden/intermediate/layers/heads/kv heads/head_dim, rms_norm_eps, tie, token ids, max positions, dtype.
void read_common(const ConfigReader& r, const Defaults& d, ModelSpec& s);

// torch_dtype (or dtype): float32 (also when absent), bfloat16 or float16.
DType read_torch_dtype(const ConfigReader& r);

// hidden_activation (when set) else hidden_act (`absent` when neither is), by HF's ACT2FN names: gelu_pytorch_tanh /
// gelu_new / gelu_fast are tanh GELU, gelu is erf GELU (tanh when gelu_is_tanh: Gemma-1's legacy rule), silu / swish
// is SiLU. exact_gelu turns a tanh GELU into erf GELU; it is an error for a SiLU model.
Activation read_activation(const ConfigReader& r, const char* family, Activation absent, bool gelu_is_tanh,
                           bool exact_gelu);

// RoPE of one object in either layout: {rope_theta?, rope_type|type, factor, ...}; fields absent keep `base`.
RopeSpec read_rope_object(const ConfigReader& r, const nlohmann::json& obj, const std::string& key, RopeSpec base);
// The model's RoPE: top-level rope_theta (default_theta when absent) and rope_scaling, then a flat rope_parameters.
RopeSpec read_rope(const ConfigReader& r, double default_theta);

// Per layer: true when it uses sliding-window attention. From `layer_types` when config.json has it (each
// "sliding_attention" or "full_attention"), else from `rule(layer)`.
std::vector<bool> read_sliding_layers(const ConfigReader& r, int num_layers, const std::function<bool(int)>& rule);

// Qwen2Config / Qwen3Config: layer l slides when use_sliding_window and l >= max_window_layers (or as layer_types
// says); *window is sliding_window then, else 0.
std::vector<bool> qwen_sliding_layers(const ConfigReader& r, int num_layers, int* window);

// The attention bias flag (attention_bias, default `fallback`) and a refusal of mlp_bias = true.
bool read_attention_bias(const ConfigReader& r, bool fallback);

// Fills s.layers: every layer gets `base`, with sliding_window set on the sliding ones (and `sliding_rope` as its
// RoPE when given).
void set_layers(ModelSpec& s, const LayerSpec& base, const std::vector<bool>& sliding, int window,
                const RopeSpec* sliding_rope = nullptr);

// A soft-capping value: `fallback` when the key is absent, none (0) when it is null, else the number (> 0).
float read_softcap(const ConfigReader& r, const char* key, double fallback);

// scale = D^-1/2 (or scalar^-1/2), as HF's python float rounded to fp32.
float inverse_sqrt(double x);

}  // namespace tune::family
