// gemma3_text (Gemma3ForCausalLM) and gemma3 (Gemma3ForConditionalGeneration, text part only): Gemma 2's block with a
// (1+w)-RMSNorm on q and k heads, no soft-capping by default, five sliding-window layers to one global
// (sliding_window_pattern), and a RoPE of its own for each kind (rope_local_base_freq on the sliding layers). gemma3
// nests the text config under text_config and its weights under model.language_model.; the vision tower is skipped.
#include <cmath>

#include "model/families/common.h"
#include "model/families/family.h"

namespace tune {

void parse_gemma3_text(const ConfigReader& r, const FamilyOptions& opts, ModelSpec& s) {
  family::read_common(r, {.tie_word_embeddings = true, .pad_token_id = 0, .bos_token_id = 2, .eos_token_id = 1,
                          .rope_theta = 1000000.0, .max_position_embeddings = 131072}, s);
  s.architecture = "Gemma3ForCausalLM";
  s.norm = NormKind::OnePlusWeight;
  s.activation = family::read_activation(r, "gemma3", Activation::GeluTanh, false, opts.exact_gelu);
  s.embed_scale = static_cast<float>(std::sqrt(static_cast<double>(s.hidden_size)));
  s.attn_scale = family::inverse_sqrt(r.optional_number("query_pre_attn_scalar", 256.0));
  s.attn_softcap = family::read_softcap(r, "attn_logit_softcapping", 0.0);
  s.final_softcap = family::read_softcap(r, "final_logit_softcapping", 0.0);
  s.qkv_bias = s.o_bias = family::read_attention_bias(r, false);
  s.names.mlp_norm = "pre_feedforward_layernorm";
  TUNE_CHECK(!r.optional_bool("use_bidirectional_attention", false), r.source(),
             ": use_bidirectional_attention = true (an encoder variant) is not supported");

  // RoPE: 2025 layout rope_theta + rope_scaling (global) and rope_local_base_freq (sliding, default RoPE); the
  // transformers 5 layout rope_parameters = {"full_attention": {...}, "sliding_attention": {...}}.
  RopeSpec global, local;
  global.theta = r.optional_number("rope_theta", 1000000.0);
  if (const auto* scaling = r.find("rope_scaling")) global = family::read_rope_object(r, *scaling, "rope_scaling", global);
  local.theta = r.optional_number("rope_local_base_freq", 10000.0);
  if (const auto* params = r.find("rope_parameters")) {
    TUNE_CHECK(params->is_object(), r.source(), ": 'rope_parameters' must be an object, got ", params->dump());
    if (params->contains("full_attention") || params->contains("sliding_attention")) {
      if (auto it = params->find("full_attention"); it != params->end() && !it->is_null())
        global = family::read_rope_object(r, *it, "rope_parameters.full_attention", global);
      if (auto it = params->find("sliding_attention"); it != params->end() && !it->is_null())
        local = family::read_rope_object(r, *it, "rope_parameters.sliding_attention", local);
    } else {
      global = family::read_rope_object(r, *params, "rope_parameters", global);
    }
  }
  LayerSpec layer;
  layer.rope = global;
  layer.qk_norm = layer.attn_out_norm = layer.mlp_out_norm = true;
  s.rope_theta = global.theta;
  const int pattern = r.optional_int("sliding_window_pattern", 6);
  TUNE_CHECK(pattern > 0, r.source(), ": 'sliding_window_pattern' must be > 0, got ", pattern);
  const int window = r.optional_int("sliding_window", 4096);
  const std::vector<bool> sliding =
      family::read_sliding_layers(r, s.num_layers, [&](int l) { return (l + 1) % pattern != 0; });
  family::set_layers(s, layer, sliding, window, &local);
}

void parse_gemma3(const ConfigReader& r, const FamilyOptions& opts, ModelSpec& s) {
  const auto* text = r.find("text_config");
  TUNE_CHECK(text && text->is_object(), r.source(),
             ": model_type gemma3 needs a 'text_config' object (the language model's config)");
  const ConfigReader t(*text, r.source() + " (text_config)");
  parse_gemma3_text(t, opts, s);
  // The text config of a multimodal checkpoint may leave these to the top level.
  if (!t.find("tie_word_embeddings")) s.tie_word_embeddings = r.optional_bool("tie_word_embeddings", true);
  if (!t.find("torch_dtype") && !t.find("dtype")) s.torch_dtype = family::read_torch_dtype(r);
  for (const char* key : {"bos_token_id", "eos_token_id", "pad_token_id"})
    if (!t.find(key) && r.find(key)) {
      int& id = key[0] == 'b' ? s.bos_token_id : key[0] == 'e' ? s.eos_token_id : s.pad_token_id;
      id = r.token_id(key, id);
    }
  s.architecture = "Gemma3ForConditionalGeneration";
  TUNE_CHECK(s.tie_word_embeddings, r.source(), ": a gemma3 checkpoint with an untied LM head is not supported");
  // transformers stores the language model as language_model.model.* (Hub checkpoints and 5.x save_pretrained);
  // some 4.5x saves used the in-memory names model.language_model.*. Modules (and PEFT keys) are the latter.
  s.names.prefix = "language_model.model.";
  s.names.prefix_aliases = {"model.language_model."};
  s.names.module_prefix = "model.language_model.";
  s.names.ignored_prefixes = {"vision_tower.", "multi_modal_projector.", "model.vision_tower.",
                              "model.multi_modal_projector."};
}

}  // namespace tune
