// gemma2 (Gemma2ForCausalLM): Gemma's block with norms after attention and after the MLP, scores scaled by
// query_pre_attn_scalar^-1/2 and soft-capped, the final logits soft-capped, and sliding-window attention on the even
// layers (0, 2, ...) unless layer_types says otherwise.
#include <cmath>

#include "model/families/common.h"
#include "model/families/family.h"

namespace tune {

void parse_gemma2(const ConfigReader& r, const FamilyOptions& opts, ModelSpec& s) {
  family::read_common(r, {.tie_word_embeddings = true, .pad_token_id = 0, .bos_token_id = 2, .eos_token_id = 1,
                          .rope_theta = 10000.0, .max_position_embeddings = 8192}, s);
  s.architecture = "Gemma2ForCausalLM";
  s.norm = NormKind::OnePlusWeight;
  s.activation = family::read_activation(r, "gemma2", Activation::GeluTanh, false, opts.exact_gelu);
  s.embed_scale = static_cast<float>(std::sqrt(static_cast<double>(s.hidden_size)));
  s.attn_scale = family::inverse_sqrt(r.optional_number("query_pre_attn_scalar", 256.0));
  s.attn_softcap = family::read_softcap(r, "attn_logit_softcapping", 50.0);
  s.final_softcap = family::read_softcap(r, "final_logit_softcapping", 30.0);
  s.qkv_bias = s.o_bias = family::read_attention_bias(r, false);
  s.names.mlp_norm = "pre_feedforward_layernorm";
  LayerSpec layer;
  layer.rope = family::read_rope(r, 10000.0);
  layer.attn_out_norm = layer.mlp_out_norm = true;
  s.rope_theta = layer.rope.theta;
  const int window = r.optional_int("sliding_window", 4096);
  const std::vector<bool> sliding =
      family::read_sliding_layers(r, s.num_layers, [](int l) { return (l + 1) % 2 != 0; });
  family::set_layers(s, layer, sliding, window);
}

}  // namespace tune
