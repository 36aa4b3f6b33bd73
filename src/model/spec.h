// ModelSpec: everything the decoder math needs to know about a checkpoint, as data. model/families/*.cpp fill it
// from config.json; the block, the LM head, loading, LoRA targeting and export read it (no per-family branches).
#pragma once
#include <string>
#include <vector>

#include "core/dtype.h"

namespace tune {

enum class Activation { GeluTanh, GeluExact, Silu };  // of the gated MLP: act(gate(x)) * up(x)

// RMSNorm scale: Gemma multiplies by (1 + w), Llama and the others by w.
enum class NormKind { OnePlusWeight, Weight };

// How the RoPE inverse frequencies are derived from theta (HF rope_type).
enum class RopeScaling { None, Linear, Llama3 };

struct RopeSpec {
  double theta = 10000.0;
  RopeScaling scaling = RopeScaling::None;
  double factor = 1.0;                     // linear and llama3
  double low_freq_factor = 1.0;            // llama3
  double high_freq_factor = 4.0;           // llama3
  int original_max_position = 8192;        // llama3: original_max_position_embeddings
  bool operator==(const RopeSpec&) const = default;
};

// What differs between the layers of one model.
struct LayerSpec {
  int sliding_window = 0;       // keys within the last `sliding_window` positions (query included); 0 = global
  RopeSpec rope;
  bool qk_norm = false;         // RMSNorm over head_dim on every q and k head, before RoPE (Qwen3, Gemma 3)
  bool attn_out_norm = false;   // RMSNorm on the attention output before the residual add (Gemma 2/3)
  bool mlp_out_norm = false;    // RMSNorm on the MLP output before the residual add (Gemma 2/3)
};

// HF tensor names: "<prefix>embed_tokens.weight", "<prefix>layers.<l>.<...>", "<prefix>norm.weight"; module names
// (what PEFT matches and names LoRA keys by): "<module_prefix>layers.<l>.self_attn.q_proj".
struct WeightNames {
  std::string prefix = "model.";         // gemma3 (nested): "language_model.model." as the Hub and save_pretrained store
  std::vector<std::string> prefix_aliases;  // other tensor prefixes a checkpoint may use instead (older saves)
  std::string module_prefix = "model.";  // gemma3: "model.language_model." (the in-memory module tree)
  std::string mlp_norm = "post_attention_layernorm";    // the pre-MLP norm ("pre_feedforward_layernorm" in Gemma 2/3)
  std::string attn_out_norm = "post_attention_layernorm";  // Gemma 2/3 only
  std::string mlp_out_norm = "post_feedforward_layernorm";  // Gemma 2/3 only
  // Tensors a checkpoint may hold that the text decoder does not use (a vision tower), by name prefix.
  std::vector<std::string> ignored_prefixes;
};

struct ModelSpec {
  std::string model_type;     // config.json model_type ("gemma", "llama", ..., "gemma3")
  std::string architecture;   // the HF class, for a config.json written from scratch ("GemmaForCausalLM")
  int vocab_size = 0;
  int hidden_size = 0;        // H
  int intermediate_size = 0;  // I
  int num_layers = 0;         // L
  int num_heads = 0;          // Nq
  int num_kv_heads = 0;       // Nkv (divides Nq)
  int head_dim = 0;           // D (explicit; Nq*D may differ from H)
  float rms_norm_eps = 1e-6f;
  NormKind norm = NormKind::OnePlusWeight;
  double rope_theta = 10000.0;  // of a plain global layer (what `tune inspect` prints); layers[l].rope is used
  Activation activation = Activation::GeluTanh;
  bool qkv_bias = false;        // q/k/v projections have a bias (Qwen2, Llama attention_bias)
  bool o_bias = false;          // o_proj has a bias (Llama attention_bias)
  bool tie_word_embeddings = true;  // LM head = embed_tokens; else lm_head.weight [V, H]
  float embed_scale = 1.0f;     // token embeddings are multiplied by this (sqrt(H) in fp32 for Gemma)
  float attn_scale = 0.0f;      // score scale: query_pre_attn_scalar^-1/2 (Gemma 2/3) or D^-1/2
  float attn_softcap = 0.0f;    // scores = c * tanh(scores / c) when > 0 (Gemma 2)
  float final_softcap = 0.0f;   // logits = c * tanh(logits / c) when > 0 (Gemma 2)
  std::vector<LayerSpec> layers;  // [L]
  WeightNames names;
  int max_position_embeddings = 8192;
  int pad_token_id = 0, eos_token_id = 1, bos_token_id = 2;
  DType torch_dtype = DType::F32;  // dtype the checkpoint is stored in

  int q_dim() const { return num_heads * head_dim; }      // Nq*D
  int kv_dim() const { return num_kv_heads * head_dim; }  // Nkv*D
  float norm_offset() const { return norm == NormKind::OnePlusWeight ? 1.0f : 0.0f; }
  // The spec of layer l; an error when the per-layer list does not cover num_layers (a hand-built spec that skipped
  // finish_gemma_spec).
  const LayerSpec& layer(int l) const;
};

// A spec of Gemma-1 shape with every layer global and default RoPE: what synthetic models (tune new-model, tests,
// benchmarks) start from. Dims are left to the caller; call finish_gemma_spec() once they are set.
ModelSpec gemma_spec_defaults();
// Fills the per-layer list and the derived scales of a Gemma-1 spec from its dims and rope_theta.
void finish_gemma_spec(ModelSpec& s);

}  // namespace tune
