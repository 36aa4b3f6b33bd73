// qwen2 (Qwen2ForCausalLM: Qwen 2 / 2.5): Llama's block with a bias on q/k/v (not o); sliding windows only with
// use_sliding_window, on the layers from max_window_layers on (or as layer_types lists them).
#include "model/families/common.h"
#include "model/families/family.h"

namespace tune {

void parse_qwen2(const ConfigReader& r, const FamilyOptions& opts, ModelSpec& s) {
  family::read_common(r, {.tie_word_embeddings = false, .pad_token_id = -1, .bos_token_id = -1,
                          .eos_token_id = -1, .rope_theta = 10000.0, .max_position_embeddings = 32768}, s);
  s.architecture = "Qwen2ForCausalLM";
  s.norm = NormKind::Weight;
  s.activation = family::read_activation(r, "qwen2", Activation::Silu, false, opts.exact_gelu);
  s.qkv_bias = true;
  s.embed_scale = 1.0f;
  s.attn_scale = family::inverse_sqrt(s.head_dim);
  LayerSpec layer;
  layer.rope = family::read_rope(r, 10000.0);
  s.rope_theta = layer.rope.theta;
  int window = 0;
  const std::vector<bool> sliding = family::qwen_sliding_layers(r, s.num_layers, &window);
  family::set_layers(s, layer, sliding, window);
}

}  // namespace tune
