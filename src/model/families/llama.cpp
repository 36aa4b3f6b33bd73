// llama (LlamaForCausalLM: Llama 2/3.x, SmolLM): w-RMSNorm, SiLU, optional attention bias on q/k/v/o, RoPE default /
// linear / llama3, every layer global, untied head unless tie_word_embeddings.
#include "model/families/common.h"
#include "model/families/family.h"

namespace tune {

void parse_llama(const ConfigReader& r, const FamilyOptions& opts, ModelSpec& s) {
  family::read_common(r, {.tie_word_embeddings = false, .pad_token_id = -1, .bos_token_id = 1, .eos_token_id = 2,
                          .rope_theta = 10000.0, .max_position_embeddings = 2048}, s);
  s.architecture = "LlamaForCausalLM";
  s.norm = NormKind::Weight;
  s.activation = family::read_activation(r, "llama", Activation::Silu, false, opts.exact_gelu);
  s.qkv_bias = s.o_bias = family::read_attention_bias(r, false);
  s.embed_scale = 1.0f;
  s.attn_scale = family::inverse_sqrt(s.head_dim);
  LayerSpec layer;
  layer.rope = family::read_rope(r, 10000.0);
  s.rope_theta = layer.rope.theta;
  s.layers.assign(static_cast<size_t>(s.num_layers), layer);
}

}  // namespace tune
