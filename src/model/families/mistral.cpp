// mistral (MistralForCausalLM): Llama's block with sliding-window attention on every layer when sliding_window is set.
#include "model/families/common.h"
#include "model/families/family.h"

namespace tune {

void parse_mistral(const ConfigReader& r, const FamilyOptions& opts, ModelSpec& s) {
  family::read_common(r, {.tie_word_embeddings = false, .pad_token_id = -1, .bos_token_id = 1, .eos_token_id = 2,
                          .rope_theta = 10000.0, .max_position_embeddings = 4096 * 32}, s);
  s.architecture = "MistralForCausalLM";
  s.norm = NormKind::Weight;
  s.activation = family::read_activation(r, "mistral", Activation::Silu, false, opts.exact_gelu);
  s.embed_scale = 1.0f;
  s.attn_scale = family::inverse_sqrt(s.head_dim);
  LayerSpec layer;
  layer.rope = family::read_rope(r, 10000.0);
  s.rope_theta = layer.rope.theta;
  const int window = r.optional_int("sliding_window", 0);  // null: every layer global
  family::set_layers(s, layer, std::vector<bool>(static_cast<size_t>(s.num_layers), window > 0), window);
}

}  // namespace tune
