// gemma (GemmaForCausalLM, Gemma 1): (1+w)-RMSNorm, tanh GELU (HF maps the legacy "gelu" to it), embeddings scaled by
// sqrt(H), tied head, default RoPE, every layer global.
#include "model/families/common.h"
#include "model/families/family.h"

namespace tune {

void parse_gemma(const ConfigReader& r, const FamilyOptions& opts, ModelSpec& s) {
  family::read_common(r, {.tie_word_embeddings = true, .pad_token_id = 0, .bos_token_id = 2, .eos_token_id = 1,
                          .rope_theta = 10000.0, .max_position_embeddings = 8192}, s);
  const std::string* act = r.optional_string(r.optional_string("hidden_activation") ? "hidden_activation" : "hidden_act");
  TUNE_CHECK(!act || *act != "silu", r.source(), ": '",
             r.optional_string("hidden_activation") ? "hidden_activation" : "hidden_act",
             "' = \"silu\" is not supported for gemma; use gelu_pytorch_tanh (or gelu, gelu_new, gelu_fast)");
  s.activation = family::read_activation(r, "gemma", Activation::GeluTanh, /*gelu_is_tanh=*/true,
                                           opts.exact_gelu);
  const RopeSpec rope = family::read_rope(r, 10000.0);
  TUNE_CHECK(rope.scaling == RopeScaling::None, r.source(),
             ": RoPE scaling is not supported for gemma (Gemma 1 uses the default RoPE)");
  s.rope_theta = rope.theta;
  s.architecture = "GemmaForCausalLM";
  finish_gemma_spec(s);
}

}  // namespace tune
