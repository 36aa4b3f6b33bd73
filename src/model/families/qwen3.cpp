// qwen3 (Qwen3ForCausalLM): Qwen2's layout without the q/k/v bias (attention_bias, default off) and with a w-RMSNorm
// over head_dim on every q and k head before RoPE.
#include "model/families/common.h"
#include "model/families/family.h"

namespace tune {

void parse_qwen3(const ConfigReader& r, const FamilyOptions& opts, ModelSpec& s) {
  family::read_common(r, {.tie_word_embeddings = false, .pad_token_id = -1, .bos_token_id = -1,
                          .eos_token_id = -1, .rope_theta = 10000.0, .max_position_embeddings = 32768}, s);
  s.architecture = "Qwen3ForCausalLM";
  s.norm = NormKind::Weight;
  s.activation = family::read_activation(r, "qwen3", Activation::Silu, false, opts.exact_gelu);
  s.qkv_bias = s.o_bias = family::read_attention_bias(r, false);
  s.embed_scale = 1.0f;
  s.attn_scale = family::inverse_sqrt(s.head_dim);
  LayerSpec layer;
  layer.rope = family::read_rope(r, 10000.0);
  layer.qk_norm = true;
  s.rope_theta = layer.rope.theta;
  int window = 0;
  const std::vector<bool> sliding = family::qwen_sliding_layers(r, s.num_layers, &window);
  family::set_layers(s, layer, sliding, window);
}

}  // namespace tune
