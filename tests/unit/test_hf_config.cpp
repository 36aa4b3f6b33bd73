// Tests for config.json -> ModelConfig: both RoPE layouts, defaults, the activation rule and every error.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/hf_config.h"
#include "unit/expect_error.h"

namespace tune {
namespace {

using test::error_of;

using json = nlohmann::json;

// gemma-2b's config.json as published in Feb 2024 (2024 layout: top-level rope_theta, hidden_act "gelu").
json gemma_2b() {
  return json::parse(R"({
    "architectures": ["GemmaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
    "bos_token_id": 2, "eos_token_id": 1, "head_dim": 256, "hidden_act": "gelu", "hidden_size": 2048,
    "initializer_range": 0.02, "intermediate_size": 16384, "max_position_embeddings": 8192,
    "model_type": "gemma", "num_attention_heads": 8, "num_hidden_layers": 18, "num_key_value_heads": 1,
    "pad_token_id": 0, "rms_norm_eps": 1e-06, "rope_scaling": null, "rope_theta": 10000.0,
    "torch_dtype": "bfloat16", "transformers_version": "4.38.0.dev0", "use_cache": true, "vocab_size": 256000})");
}

// Only the required keys.
json minimal() {
  return json::parse(R"({"model_type": "gemma", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 48,
                         "num_hidden_layers": 2, "num_attention_heads": 4})");
}

ModelConfig parse(const json& j, bool exact_gelu = false) { return parse_hf_config(j.dump(), "cfg.json", exact_gelu); }

std::string parse_error(const json& j) {
  return error_of([&] { parse(j); });
}

TEST(HfConfig, Gemma2bFrom2024Layout) {
  const ModelConfig c = parse(gemma_2b());
  EXPECT_EQ(c.model_type, "gemma");
  EXPECT_EQ(c.vocab_size, 256000);
  EXPECT_EQ(c.hidden_size, 2048);
  EXPECT_EQ(c.intermediate_size, 16384);
  EXPECT_EQ(c.num_layers, 18);
  EXPECT_EQ(c.num_heads, 8);
  EXPECT_EQ(c.num_kv_heads, 1);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_FLOAT_EQ(c.rms_norm_eps, 1e-6f);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.activation, Activation::GeluTanh);  // legacy "gelu" means tanh-GELU under HF v5
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.max_position_embeddings, 8192);
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_EQ(c.eos_token_id, 1);
  EXPECT_EQ(c.bos_token_id, 2);
  EXPECT_EQ(c.torch_dtype, DType::BF16);
  EXPECT_EQ(c.q_dim(), 2048);
  EXPECT_EQ(c.kv_dim(), 256);
}

TEST(HfConfig, ExplicitHeadDimWinsOverHiddenOverHeads) {
  json j = gemma_2b();
  j["hidden_size"] = 3072;
  j["num_attention_heads"] = 16;
  j["num_key_value_heads"] = 16;
  j["head_dim"] = 256;  // gemma-7b: 3072 / 16 = 192 would be wrong
  const ModelConfig c = parse(j);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_EQ(c.q_dim(), 4096);
  EXPECT_EQ(c.kv_dim(), 4096);
}

TEST(HfConfig, NewerLayoutWithRopeParametersAndDtype) {
  json j = minimal();
  j["rope_parameters"] = {{"rope_theta", 5000.0}, {"rope_type", "default"}};
  j["dtype"] = "float16";
  j["hidden_act"] = "gelu_pytorch_tanh";
  j["eos_token_id"] = {1, 107};
  j["pad_token_id"] = nullptr;
  const ModelConfig c = parse(j);
  EXPECT_DOUBLE_EQ(c.rope_theta, 5000.0);
  EXPECT_EQ(c.torch_dtype, DType::F16);
  EXPECT_EQ(c.eos_token_id, 1);
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_EQ(c.activation, Activation::GeluTanh);
}

TEST(HfConfig, RopeParametersThetaWinsOverTopLevel) {
  json j = minimal();
  j["rope_theta"] = 10000.0;
  j["rope_parameters"] = {{"rope_theta", 20000.0}};
  EXPECT_DOUBLE_EQ(parse(j).rope_theta, 20000.0);
}

TEST(HfConfig, DefaultsForOptionalKeys) {
  const ModelConfig c = parse(minimal());
  EXPECT_EQ(c.num_kv_heads, 4);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_FLOAT_EQ(c.rms_norm_eps, 1e-6f);
  EXPECT_EQ(c.max_position_embeddings, 8192);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_EQ(c.bos_token_id, 2);
  EXPECT_EQ(c.eos_token_id, 1);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.activation, Activation::GeluTanh);
  EXPECT_EQ(c.torch_dtype, DType::F32);
}

TEST(HfConfig, ExplicitOptionalValues) {
  json j = minimal();
  j["num_key_value_heads"] = 2;
  j["head_dim"] = 16;
  j["rms_norm_eps"] = 1e-5;
  j["max_position_embeddings"] = 128;
  j["tie_word_embeddings"] = false;
  j["pad_token_id"] = 5;
  j["bos_token_id"] = 6;
  j["eos_token_id"] = 7;
  j["torch_dtype"] = "float32";
  const ModelConfig c = parse(j);
  EXPECT_EQ(c.num_kv_heads, 2);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_FLOAT_EQ(c.rms_norm_eps, 1e-5f);
  EXPECT_EQ(c.max_position_embeddings, 128);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.pad_token_id, 5);
  EXPECT_EQ(c.bos_token_id, 6);
  EXPECT_EQ(c.eos_token_id, 7);
  EXPECT_EQ(c.torch_dtype, DType::F32);
}

TEST(HfConfig, ActivationRules) {
  for (const char* name : {"gelu", "gelu_pytorch_tanh", "gelu_new", "gelu_fast"}) {
    json j = minimal();
    j["hidden_act"] = name;
    EXPECT_EQ(parse(j).activation, Activation::GeluTanh) << name;
    EXPECT_EQ(parse(j, /*exact_gelu=*/true).activation, Activation::GeluExact) << name;
  }
  json j = minimal();
  j["hidden_act"] = "silu";
  j["hidden_activation"] = "gelu_pytorch_tanh";  // 4.4x-era key wins over hidden_act
  EXPECT_EQ(parse(j).activation, Activation::GeluTanh);
  j["hidden_activation"] = nullptr;  // null falls back to hidden_act
  const std::string msg = parse_error(j);
  EXPECT_CONTAINS(msg, "'hidden_act' = \"silu\" is not supported");
  j.erase("hidden_act");
  j["hidden_activation"] = "relu";
  EXPECT_CONTAINS(parse_error(j), "'hidden_activation' = \"relu\" is not supported");
  j["hidden_activation"] = 3;
  EXPECT_CONTAINS(parse_error(j), "'hidden_activation' must be a string, got 3");
}

TEST(HfConfig, RejectsOtherModelTypes) {
  json j = gemma_2b();
  j["model_type"] = "gpt2";
  EXPECT_EQ(parse_error(j), "cfg.json: model_type 'gpt2' is not supported; tune.cpp supports: gemma, gemma2, gemma3, "
                            "gemma3_text, llama, mistral, qwen2, qwen3");
  j.erase("model_type");
  EXPECT_CONTAINS(parse_error(j), "missing 'model_type'");
}

TEST(HfConfig, MissingRequiredKeys) {
  for (const char* key :
       {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"}) {
    json j = minimal();
    j.erase(key);
    EXPECT_CONTAINS(parse_error(j), std::string("cfg.json: missing required key '") + key + "'");
    j[key] = nullptr;
    EXPECT_CONTAINS(parse_error(j), std::string("missing required key '") + key + "'");
  }
}

TEST(HfConfig, WrongTypesNameKeyAndValue) {
  json j = minimal();
  j["hidden_size"] = "2048";
  EXPECT_CONTAINS(parse_error(j), "'hidden_size' must be an integer, got \"2048\"");
  j = minimal();
  j["num_hidden_layers"] = 2.5;
  EXPECT_CONTAINS(parse_error(j), "'num_hidden_layers' must be an integer, got 2.5");
  j = minimal();
  j["rms_norm_eps"] = "small";
  EXPECT_CONTAINS(parse_error(j), "'rms_norm_eps' must be a number, got \"small\"");
  j = minimal();
  j["tie_word_embeddings"] = "yes";
  EXPECT_CONTAINS(parse_error(j), "'tie_word_embeddings' must be true or false, got \"yes\"");
  j = minimal();
  j["model_type"] = 7;
  EXPECT_CONTAINS(parse_error(j), "'model_type' must be a string, got 7");
  j = minimal();
  j["eos_token_id"] = json::array();
  EXPECT_CONTAINS(parse_error(j), "'eos_token_id' is an empty list");
  j = minimal();
  j["eos_token_id"] = {"a"};
  EXPECT_CONTAINS(parse_error(j), "'eos_token_id' must be an integer, got \"a\"");
  j = minimal();
  j["vocab_size"] = 1LL << 40;
  EXPECT_CONTAINS(parse_error(j), "'vocab_size' = 1099511627776 is out of range");
}

TEST(HfConfig, ValidatesSizes) {
  json j = minimal();
  j["intermediate_size"] = 0;
  EXPECT_CONTAINS(parse_error(j), "'intermediate_size' must be > 0, got 0");
  j = minimal();
  j["num_attention_heads"] = 0;
  EXPECT_CONTAINS(parse_error(j), "'num_attention_heads' must be > 0");
  j = minimal();
  j["num_key_value_heads"] = 3;
  EXPECT_CONTAINS(parse_error(j), "num_attention_heads (4) must be a multiple of num_key_value_heads (3)");
  j = minimal();
  j["head_dim"] = 7;
  EXPECT_CONTAINS(parse_error(j), "head_dim (7) must be even");
  j = minimal();
  j["rms_norm_eps"] = -1.0;
  EXPECT_CONTAINS(parse_error(j), "'rms_norm_eps' must be > 0");
  j = minimal();
  j["rope_theta"] = 0.0;
  EXPECT_CONTAINS(parse_error(j), "'rope_theta' must be > 0");
}

TEST(HfConfig, RejectsRopeScaling) {
  json j = minimal();
  j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 8.0}};
  EXPECT_CONTAINS(parse_error(j), "RoPE scaling is not supported for gemma (Gemma 1 uses the default RoPE)");
  j = minimal();
  j["rope_scaling"] = {{"type", "dynamic"}, {"factor", 2.0}};
  EXPECT_CONTAINS(parse_error(j), "'rope_scaling' has type \"dynamic\"; supported RoPE types: default, linear, llama3");
  j = minimal();
  j["rope_parameters"] = {{"rope_theta", 10000.0}, {"rope_type", "yarn"}};
  EXPECT_CONTAINS(parse_error(j), "'rope_parameters' has rope_type \"yarn\"; supported RoPE types");
  j = minimal();
  j["rope_parameters"] = 5;
  EXPECT_CONTAINS(parse_error(j), "'rope_parameters' must be an object, got 5");
  j = minimal();
  j["rope_parameters"] = {{"rope_theta", "big"}};
  EXPECT_CONTAINS(parse_error(j), "'rope_parameters.rope_theta' must be a number, got \"big\"");
}

TEST(HfConfig, RejectsUnknownDtypeAndBadJson) {
  json j = minimal();
  j["torch_dtype"] = "float64";
  EXPECT_CONTAINS(parse_error(j), "'torch_dtype' = \"float64\" is not supported");
  EXPECT_CONTAINS(error_of([] { parse_hf_config("{\"model_type\": ", "x.json"); }), "x.json: not valid JSON");
  EXPECT_CONTAINS(error_of([] { parse_hf_config("[1, 2]", "x.json"); }), "x.json: expected a JSON object");
}

TEST(HfConfig, LoadFromDirectory) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("tune_test_hf_config_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  EXPECT_CONTAINS(error_of([&] { load_hf_config(dir); }), "pass an HF model directory");
  fs::create_directories(dir);
  EXPECT_CONTAINS(error_of([&] { load_hf_config(dir); }), "config.json not found; pass an HF model directory");
  std::ofstream(dir / "config.json") << gemma_2b().dump(2);
  const ModelConfig c = load_hf_config(dir, /*exact_gelu=*/true);
  EXPECT_EQ(c.num_layers, 18);
  EXPECT_EQ(c.activation, Activation::GeluExact);
  std::ofstream(dir / "config.json") << "{\"model_type\": \"gpt2\"}";
  EXPECT_CONTAINS(error_of([&] { load_hf_config(dir); }),
                  (dir / "config.json").string() + ": model_type 'gpt2' is not supported");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tune
