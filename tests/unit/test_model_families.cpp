// Tests for the model families' config.json -> ModelSpec mapping, on configs shaped like the real checkpoints
// (values from their published config.json files): what each family turns on, per-layer windows and RoPE, defaults
// when keys are absent, and the errors for what is not supported.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/hf_config.h"
#include "unit/expect_error.h"

namespace tune {
namespace {

using test::error_of;

using json = nlohmann::json;

ModelSpec parse(const json& j) { return parse_hf_config(j.dump(), "config.json"); }
std::string parse_error(const json& j) {
  return error_of([&] { parse(j); });
}

json base(const char* type) {
  return {{"model_type", type}, {"vocab_size", 1000}, {"hidden_size", 64}, {"intermediate_size", 128},
          {"num_hidden_layers", 6}, {"num_attention_heads", 4}, {"num_key_value_heads", 2}};
}

TEST(Families, Llama32WithLlama3RopeAndTiedHead) {
  json j = base("llama");
  j["hidden_act"] = "silu";
  j["tie_word_embeddings"] = true;
  j["rope_theta"] = 500000.0;
  j["rope_scaling"] = {{"factor", 32.0}, {"high_freq_factor", 4.0}, {"low_freq_factor", 1.0},
                       {"original_max_position_embeddings", 8192}, {"rope_type", "llama3"}};
  const ModelSpec s = parse(j);
  EXPECT_EQ(s.norm, NormKind::Weight);
  EXPECT_EQ(s.activation, Activation::Silu);
  EXPECT_FALSE(s.qkv_bias);
  EXPECT_TRUE(s.tie_word_embeddings);
  EXPECT_EQ(s.embed_scale, 1.0f);
  EXPECT_FLOAT_EQ(s.attn_scale, 1.0f / 4.0f);  // head_dim 64 / 4 = 16
  ASSERT_EQ(s.layers.size(), 6u);
  for (const LayerSpec& l : s.layers) {
    EXPECT_EQ(l.sliding_window, 0);
    EXPECT_EQ(l.rope.scaling, RopeScaling::Llama3);
    EXPECT_EQ(l.rope.factor, 32.0);
    EXPECT_EQ(l.rope.theta, 500000.0);
    EXPECT_EQ(l.rope.original_max_position, 8192);
    EXPECT_FALSE(l.qk_norm || l.attn_out_norm || l.mlp_out_norm);
  }
  EXPECT_EQ(s.names.prefix, "model.");
  EXPECT_EQ(s.names.mlp_norm, "post_attention_layernorm");
}

TEST(Families, LlamaDefaultsUntiedAndAttentionBias) {
  json j = base("llama");
  EXPECT_FALSE(parse(j).tie_word_embeddings);  // LlamaConfig default
  j["attention_bias"] = true;
  const ModelSpec s = parse(j);
  EXPECT_TRUE(s.qkv_bias);
  EXPECT_TRUE(s.o_bias);
  j["mlp_bias"] = true;
  EXPECT_CONTAINS(parse_error(j), "mlp_bias = true is not supported");
}

TEST(Families, MistralSlidingWindowOnEveryLayerOrNone) {
  json j = base("mistral");
  j["sliding_window"] = 4096;
  for (const LayerSpec& l : parse(j).layers) EXPECT_EQ(l.sliding_window, 4096);
  j["sliding_window"] = nullptr;  // Mistral v0.2+: global attention
  for (const LayerSpec& l : parse(j).layers) EXPECT_EQ(l.sliding_window, 0);
}

TEST(Families, Qwen2BiasAndWindowsOnlyWithUseSlidingWindow) {
  json j = base("qwen2");
  j["sliding_window"] = 32768;
  j["use_sliding_window"] = false;
  j["max_window_layers"] = 2;
  ModelSpec s = parse(j);
  EXPECT_TRUE(s.qkv_bias);
  EXPECT_FALSE(s.o_bias);
  for (const LayerSpec& l : s.layers) EXPECT_EQ(l.sliding_window, 0);
  j["use_sliding_window"] = true;
  j["sliding_window"] = 16;
  s = parse(j);
  for (int l = 0; l < 6; ++l) EXPECT_EQ(s.layers[l].sliding_window, l >= 2 ? 16 : 0) << l;
  j["layer_types"] = {"full_attention", "sliding_attention", "full_attention", "full_attention", "full_attention",
                      "full_attention"};
  s = parse(j);
  for (int l = 0; l < 6; ++l) EXPECT_EQ(s.layers[l].sliding_window, l == 1 ? 16 : 0) << l;
}

TEST(Families, Qwen3QkNormNoBias) {
  const ModelSpec s = parse(base("qwen3"));
  EXPECT_FALSE(s.qkv_bias);
  EXPECT_EQ(s.norm, NormKind::Weight);
  for (const LayerSpec& l : s.layers) EXPECT_TRUE(l.qk_norm);
}

TEST(Families, Gemma2DefaultsSoftcapsAlternatingWindows) {
  json j = base("gemma2");
  j["head_dim"] = 256;
  j["query_pre_attn_scalar"] = 256;
  ModelSpec s = parse(j);
  EXPECT_EQ(s.norm, NormKind::OnePlusWeight);
  EXPECT_EQ(s.activation, Activation::GeluTanh);
  EXPECT_FLOAT_EQ(s.embed_scale, 8.0f);  // sqrt(64)
  EXPECT_FLOAT_EQ(s.attn_scale, 1.0f / 16.0f);
  EXPECT_EQ(s.attn_softcap, 50.0f);   // Gemma2Config defaults when the keys are absent
  EXPECT_EQ(s.final_softcap, 30.0f);
  EXPECT_EQ(s.names.mlp_norm, "pre_feedforward_layernorm");
  for (int l = 0; l < 6; ++l) {
    EXPECT_EQ(s.layers[l].sliding_window, l % 2 == 0 ? 4096 : 0) << l;
    EXPECT_TRUE(s.layers[l].attn_out_norm && s.layers[l].mlp_out_norm);
    EXPECT_FALSE(s.layers[l].qk_norm);
  }
  j["final_logit_softcapping"] = nullptr;
  EXPECT_EQ(parse(j).final_softcap, 0.0f);
  j["hidden_activation"] = "gelu";  // exact GELU outside Gemma 1's legacy rule
  EXPECT_EQ(parse(j).activation, Activation::GeluExact);
}

TEST(Families, Gemma3TextPatternAndTwoRopes) {
  json j = base("gemma3_text");
  j["rope_theta"] = 1000000.0;
  j["rope_local_base_freq"] = 10000.0;
  j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 8.0}};
  j["sliding_window"] = 512;
  j["sliding_window_pattern"] = 6;
  ModelSpec s = parse(j);
  for (int l = 0; l < 6; ++l) {
    const LayerSpec& ls = s.layers[l];
    EXPECT_TRUE(ls.qk_norm);
    if (l == 5) {  // (l + 1) % 6 == 0: global
      EXPECT_EQ(ls.sliding_window, 0);
      EXPECT_EQ(ls.rope.theta, 1000000.0);
      EXPECT_EQ(ls.rope.scaling, RopeScaling::Linear);
      EXPECT_EQ(ls.rope.factor, 8.0);
    } else {
      EXPECT_EQ(ls.sliding_window, 512);
      EXPECT_EQ(ls.rope.theta, 10000.0);
      EXPECT_EQ(ls.rope.scaling, RopeScaling::None);
    }
  }
  EXPECT_EQ(s.attn_softcap, 0.0f);
  EXPECT_EQ(s.final_softcap, 0.0f);
  // transformers 5 layout
  j.erase("rope_theta");
  j.erase("rope_local_base_freq");
  j.erase("rope_scaling");
  j["rope_parameters"] = {{"full_attention", {{"rope_type", "default"}, {"rope_theta", 2e6}}},
                          {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 5e3}}}};
  s = parse(j);
  EXPECT_EQ(s.layers[5].rope.theta, 2e6);
  EXPECT_EQ(s.layers[0].rope.theta, 5e3);
  j["use_bidirectional_attention"] = true;
  EXPECT_CONTAINS(parse_error(j), "use_bidirectional_attention = true");
}

TEST(Families, Gemma3NestedTextConfigAndWeightPrefix) {
  json text = base("gemma3_text");
  text.erase("model_type");
  const json j = {{"model_type", "gemma3"}, {"text_config", text}, {"torch_dtype", "bfloat16"},
                  {"eos_token_id", {1, 106}}};
  const ModelSpec s = parse(j);
  EXPECT_EQ(s.model_type, "gemma3");
  EXPECT_EQ(s.hidden_size, 64);
  EXPECT_EQ(s.torch_dtype, DType::BF16);
  EXPECT_EQ(s.eos_token_id, 1);
  EXPECT_EQ(s.names.prefix, "language_model.model.");
  EXPECT_EQ(s.names.module_prefix, "model.language_model.");
  EXPECT_FALSE(s.names.ignored_prefixes.empty());
  EXPECT_CONTAINS(parse_error(json{{"model_type", "gemma3"}}), "model_type gemma3 needs a 'text_config' object");
}

TEST(Families, UnsupportedRopeAndActivation) {
  json j = base("llama");
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  EXPECT_CONTAINS(parse_error(j), "'rope_scaling' has rope_type \"yarn\"; supported RoPE types: default, linear, llama3");
  j = base("qwen2");
  j["hidden_act"] = "relu";
  EXPECT_CONTAINS(parse_error(j), "'hidden_act' = \"relu\" is not supported for qwen2");
  j = base("llama");
  EXPECT_CONTAINS(error_of([&] { parse_hf_config(j.dump(), "config.json", /*exact_gelu=*/true); }),
                  "exact_gelu selects erf GELU, but this llama model uses SiLU");
  j["rope_parameters"] = {{"rope_type", "default"}, {"partial_rotary_factor", 0.5}};
  EXPECT_CONTAINS(parse_error(j), "partial_rotary_factor' other than 1 is not supported");
}

}  // namespace
}  // namespace tune
