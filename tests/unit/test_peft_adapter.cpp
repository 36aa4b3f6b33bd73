// Tests for PEFT adapter folders: adapter_config.json text and parsing, adapter/value-head round trips and errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/dtype.h"
#include "core/error.h"
#include "io/peft_adapter.h"
#include "io/safetensors.h"
#include "unit/expect_error.h"
#include "unit/tiny_model_config.h"

namespace tune {
namespace {

using test::error_of;

namespace fs = std::filesystem;
using json = nlohmann::json;

// A recipe-style config: r 8, alpha 16, dropout 0.05 on q,k,v,o of google/gemma-2b.
LoraConfig recipe_config() {
  LoraConfig c;
  c.r = 8;
  c.lora_alpha = 16;
  c.lora_dropout = 0.05f;
  c.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj"};
  c.base_model_name_or_path = "google/gemma-2b";
  return c;
}

// What Python's json.dumps(asdict(config), indent=2, sort_keys=True) gives for recipe_config() under PEFT 0.8.x.
const char* kRecipeJson = R"({
  "alpha_pattern": {},
  "auto_mapping": null,
  "base_model_name_or_path": "google/gemma-2b",
  "bias": "none",
  "fan_in_fan_out": false,
  "inference_mode": true,
  "init_lora_weights": true,
  "layers_pattern": null,
  "layers_to_transform": null,
  "loftq_config": {},
  "lora_alpha": 16,
  "lora_dropout": 0.05,
  "megatron_config": null,
  "megatron_core": "megatron.core",
  "modules_to_save": null,
  "peft_type": "LORA",
  "r": 8,
  "rank_pattern": {},
  "revision": null,
  "target_modules": [
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj"
  ],
  "task_type": "CAUSAL_LM",
  "use_rslora": false
})";

// An adapter_config.json as PEFT 0.21 writes it (many keys 0.8.x does not know).
const char* kPeft021Json = R"({
  "alora_invocation_tokens": null,
  "alpha_pattern": {"model.layers.1.self_attn.q_proj": 8.5},
  "arrow_config": null,
  "auto_mapping": null,
  "base_model_name_or_path": "google/gemma-2b",
  "bias": "none",
  "corda_config": null,
  "ensure_weight_tying": false,
  "eva_config": null,
  "exclude_modules": null,
  "fan_in_fan_out": false,
  "inference_mode": true,
  "init_lora_weights": true,
  "layer_replication": null,
  "layers_pattern": null,
  "layers_to_transform": null,
  "loftq_config": {},
  "lora_alpha": 32,
  "lora_bias": false,
  "lora_dropout": 0.1,
  "lora_ga_config": null,
  "megatron_config": null,
  "megatron_core": "megatron.core",
  "modules_to_save": null,
  "monteclora_config": null,
  "peft_type": "LORA",
  "peft_version": "0.21.0@abc123",
  "qalora_group_size": 16,
  "r": 16,
  "rank_pattern": {"down_proj": 4},
  "revision": null,
  "target_modules": ["v_proj", "q_proj", "down_proj"],
  "target_parameters": null,
  "task_type": "CAUSAL_LM",
  "trainable_token_indices": null,
  "use_bdlora": false,
  "use_dora": false,
  "use_qalora": false,
  "use_rslora": true,
  "velora_config": null
})";

TEST(AdapterConfig, WritesPeft08TextByteForByte) { EXPECT_EQ(adapter_config_json(recipe_config()), kRecipeJson); }

TEST(AdapterConfig, WritesPatternsRegexNullsAndPythonFloats) {
  LoraConfig c = recipe_config();
  c.alpha_pattern = {{"up_proj", 0.5f}, {"model.layers.1.mlp.down_proj", 32.0f}};
  c.rank_pattern = {{"q_proj", 4}};
  c.lora_alpha = 2.5e16f;
  c.lora_dropout = 1e-5f;
  c.target_modules.clear();
  c.target_regex = R"(.*\.(q|v)_proj)";
  c.base_model_name_or_path = "";
  c.task_type = "";
  c.use_rslora = true;
  // Checked against Python json.dumps(..., indent=2, sort_keys=True) of the same dict.
  EXPECT_EQ(adapter_config_json(c), R"({
  "alpha_pattern": {
    "model.layers.1.mlp.down_proj": 32,
    "up_proj": 0.5
  },
  "auto_mapping": null,
  "base_model_name_or_path": null,
  "bias": "none",
  "fan_in_fan_out": false,
  "inference_mode": true,
  "init_lora_weights": true,
  "layers_pattern": null,
  "layers_to_transform": null,
  "loftq_config": {},
  "lora_alpha": 2.5e+16,
  "lora_dropout": 1e-05,
  "megatron_config": null,
  "megatron_core": "megatron.core",
  "modules_to_save": null,
  "peft_type": "LORA",
  "r": 8,
  "rank_pattern": {
    "q_proj": 4
  },
  "revision": null,
  "target_modules": ".*\\.(q|v)_proj",
  "task_type": null,
  "use_rslora": true
})");
}

// The value a float takes in the written JSON (via lora_dropout / lora_alpha), as Python's repr would write it.
std::string written(const char* key, float value) {
  LoraConfig c = recipe_config();
  (std::string(key) == "lora_alpha" ? c.lora_alpha : c.lora_dropout) = value;
  const std::string text = adapter_config_json(c);
  const size_t at = text.find(std::string("\"") + key + "\": ") + std::string(key).size() + 4;
  return text.substr(at, text.find(',', at) - at);
}

TEST(AdapterConfig, NumbersFollowPythonRepr) {
  EXPECT_EQ(written("lora_dropout", 0.0f), "0.0");
  EXPECT_EQ(written("lora_dropout", 0.1f), "0.1");
  EXPECT_EQ(written("lora_dropout", 0.0001f), "0.0001");
  EXPECT_EQ(written("lora_dropout", 0.00012f), "0.00012");
  EXPECT_EQ(written("lora_dropout", 1.5e-7f), "1.5e-07");
  EXPECT_EQ(written("lora_dropout", 0.333f), "0.333");
  EXPECT_EQ(written("lora_alpha", 1234.5f), "1234.5");
  EXPECT_EQ(written("lora_alpha", 32.0f), "32");
  EXPECT_EQ(written("lora_alpha", -0.25f), "-0.25");
  EXPECT_EQ(written("lora_alpha", 1e16f), "1e+16");
}

TEST(AdapterConfig, StringsAreEscapedLikePython) {
  LoraConfig c = recipe_config();
  c.base_model_name_or_path = "gemma-\u00e9\u2603\U0001F600/\"x\"\n";
  EXPECT_CONTAINS(adapter_config_json(c),
                  R"("base_model_name_or_path": "gemma-\u00e9\u2603\ud83d\ude00/\"x\"\n",)");
}

TEST(AdapterConfig, WrittenTextParsesBack) {
  LoraConfig c = recipe_config();
  c.rank_pattern = {{"o_proj", 2}};
  c.alpha_pattern = {{"q_proj", 4.5f}};
  const LoraConfig back = parse_adapter_config(adapter_config_json(c), "a.json");
  EXPECT_EQ(back.r, 8);
  EXPECT_EQ(back.lora_alpha, 16.0f);
  EXPECT_EQ(back.lora_dropout, 0.05f);
  EXPECT_EQ(back.target_modules, c.target_modules);
  EXPECT_FALSE(back.target_regex);
  EXPECT_EQ(back.rank_pattern, c.rank_pattern);
  EXPECT_EQ(back.alpha_pattern, c.alpha_pattern);
  EXPECT_EQ(back.base_model_name_or_path, "google/gemma-2b");
  EXPECT_EQ(back.task_type, "CAUSAL_LM");
  EXPECT_EQ(back.bias, "none");
  EXPECT_FALSE(back.use_rslora);
}

TEST(AdapterConfig, ParsesPeft021ConfigIgnoringUnknownKeys) {
  const LoraConfig c = parse_adapter_config(kPeft021Json, "adapter_config.json");
  EXPECT_EQ(c.r, 16);
  EXPECT_EQ(c.lora_alpha, 32.0f);
  EXPECT_FLOAT_EQ(c.lora_dropout, 0.1f);
  EXPECT_TRUE(c.use_rslora);
  EXPECT_EQ(c.target_modules, (std::vector<std::string>{"v_proj", "q_proj", "down_proj"}));
  EXPECT_EQ(c.rank_pattern, (std::map<std::string, int>{{"down_proj", 4}}));
  EXPECT_EQ(c.alpha_pattern, (std::map<std::string, float>{{"model.layers.1.self_attn.q_proj", 8.5f}}));
  EXPECT_EQ(c.base_model_name_or_path, "google/gemma-2b");
  EXPECT_EQ(c.task_type, "CAUSAL_LM");
}

TEST(AdapterConfig, ParsesMinimalAndNullableValues) {
  LoraConfig c = parse_adapter_config(
      R"({"peft_type": "LORA", "target_modules": ".*q_proj", "r": 4, "lora_alpha": 0.5,
          "base_model_name_or_path": null, "task_type": null, "rank_pattern": null, "alpha_pattern": {}})",
      "a.json");
  EXPECT_EQ(c.r, 4);
  EXPECT_EQ(c.lora_alpha, 0.5f);
  EXPECT_EQ(c.lora_dropout, 0.0f);
  EXPECT_EQ(c.target_regex, std::optional<std::string>(".*q_proj"));
  EXPECT_TRUE(c.target_modules.empty());
  EXPECT_TRUE(c.rank_pattern.empty());
  EXPECT_EQ(c.base_model_name_or_path, "");
  EXPECT_EQ(c.task_type, "");
  EXPECT_EQ(c.bias, "none");
  // Defaults when keys are absent: r 8, alpha 8.
  c = parse_adapter_config(R"({"peft_type": "LORA", "target_modules": ["q_proj"]})", "a.json");
  EXPECT_EQ(c.r, 8);
  EXPECT_EQ(c.lora_alpha, 8.0f);
}

// Parses kPeft021Json with `key` replaced by `value` (or removed when value is "<erase>"), returning the error.
std::string config_error(const std::string& key, const std::string& value) {
  json j = json::parse(kPeft021Json);
  if (value == "<erase>")
    j.erase(key);
  else
    j[key] = json::parse(value);
  return error_of([&] { parse_adapter_config(j.dump(), "ad.json"); });
}

TEST(AdapterConfig, RejectsUnsupportedOrMalformedConfigs) {
  EXPECT_EQ(config_error("use_dora", "true"), "ad.json: DoRA adapters are not supported ('use_dora' = true)");
  EXPECT_CONTAINS(config_error("peft_type", R"("IA3")"), "ad.json: peft_type 'IA3' is not supported");
  EXPECT_CONTAINS(config_error("peft_type", "<erase>"), "missing 'peft_type'");
  EXPECT_CONTAINS(config_error("target_modules", "null"),
                  "ad.json: adapter_config.json has no target_modules; set lora_target");
  EXPECT_CONTAINS(config_error("target_modules", "<erase>"), "has no target_modules; set lora_target");
  EXPECT_CONTAINS(config_error("target_modules", "[]"), "'target_modules' is empty");
  EXPECT_CONTAINS(config_error("target_modules", "5"), "'target_modules' must be a list of names or a regex");
  EXPECT_CONTAINS(config_error("target_modules", R"(["q_proj", 3])"), "'target_modules' entries must be strings");
  EXPECT_CONTAINS(config_error("fan_in_fan_out", "true"), "fan_in_fan_out=true is not supported");
  EXPECT_CONTAINS(config_error("layers_to_transform", "[0, 1]"), "layers_to_transform is not supported yet");
  EXPECT_CONTAINS(config_error("modules_to_save", R"(["score"])"), "modules_to_save is not supported yet");
  EXPECT_CONTAINS(config_error("exclude_modules", R"(["o_proj"])"), "exclude_modules is not supported yet");
  EXPECT_CONTAINS(config_error("lora_bias", "true"), "lora_bias=true is not supported");
  EXPECT_CONTAINS(config_error("bias", R"("all")"), "bias 'all' is not supported (bias training)");
  EXPECT_CONTAINS(config_error("r", R"("8")"), "'r' must be an integer, got \"8\"");
  EXPECT_CONTAINS(config_error("r", "2.5"), "'r' must be an integer, got 2.5");
  EXPECT_CONTAINS(config_error("r", "8.0"), "'r' must be an integer, got 8.0");
  EXPECT_CONTAINS(config_error("r", "0"), "'r' must be > 0, got 0");
  EXPECT_CONTAINS(config_error("lora_alpha", R"("16")"), "'lora_alpha' must be a number, got \"16\"");
  EXPECT_CONTAINS(config_error("lora_dropout", "1.0"), "'lora_dropout' must be in [0, 1)");
  EXPECT_CONTAINS(config_error("use_rslora", "1"), "'use_rslora' must be true or false, got 1");
  EXPECT_CONTAINS(config_error("rank_pattern", "[]"), "'rank_pattern' must be an object");
  EXPECT_CONTAINS(config_error("rank_pattern", R"({"q_proj": "x"})"),
                  "'rank_pattern[\"q_proj\"]' must be an integer, got \"x\"");
  EXPECT_CONTAINS(config_error("rank_pattern", R"({"q_proj": -1})"), "rank_pattern[\"q_proj\"] must be > 0");
  EXPECT_CONTAINS(config_error("alpha_pattern", R"({"q_proj": null})"),
                  "'alpha_pattern[\"q_proj\"]' must be a number, got null");
  EXPECT_CONTAINS(config_error("base_model_name_or_path", "1"), "'base_model_name_or_path' must be a string");
  EXPECT_CONTAINS(error_of([] { parse_adapter_config("{", "ad.json"); }), "ad.json: not valid JSON");
  EXPECT_CONTAINS(error_of([] { parse_adapter_config("[]", "ad.json"); }), "ad.json: expected a JSON object");
}

class AdapterFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("tune_test_peft_adapter_" + std::to_string(::getpid()));
    fs::remove_all(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  // q and v targeted, v at rank 2, with non-zero B so that both matrices carry data.
  LoraAdapter make_adapter() {
    LoraConfig c = recipe_config();
    c.target_modules = {"q_proj", "v_proj"};
    c.rank_pattern = {{"v_proj", 2}};
    LoraAdapter a = init_lora(model, c, 5);
    float x = 0.0f;
    for (auto& layer : a.layers)
      for (auto& m : layer)
        if (m)
          for (float& b : m->B.data) b = (x += 0.013f);
    return a;
  }

  // The adapter's tensors by key, for writing altered files.
  static std::vector<NamedTensor> tensors_of(const LoraAdapter& a) {
    std::vector<NamedTensor> out;
    for (size_t l = 0; l < a.layers.size(); ++l)
      for (int p = 0; p < kNumProj; ++p)
        if (const auto& m = a.layers[l][static_cast<size_t>(p)]) {
          out.push_back({a.tensor_key(static_cast<int>(l), static_cast<Proj>(p), 'A'), &m->A});
          out.push_back({a.tensor_key(static_cast<int>(l), static_cast<Proj>(p), 'B'), &m->B});
        }
    return out;
  }

  std::string load_error(const ModelConfig& m) {
    return error_of([&] { load_peft_adapter(dir, m); });
  }

  fs::path dir;
  ModelConfig model = test::tiny_model_config();
};

TEST_F(AdapterFiles, SaveLoadRoundTrip) {
  const LoraAdapter a = make_adapter();
  save_peft_adapter(dir, a);
  EXPECT_EQ(read_text_file(dir / "adapter_config.json"), adapter_config_json(a.config));

  const SafetensorsFile f = SafetensorsFile::open(dir / "adapter_model.safetensors");
  EXPECT_EQ(f.tensors().size(), 8u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  const TensorInfo& vb = f.get("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight");
  EXPECT_EQ(vb.dtype, DType::F32);
  EXPECT_EQ(vb.shape, (Shape{6, 2}));

  const LoraAdapter b = load_peft_adapter(dir, model);
  ASSERT_EQ(b.layers.size(), 2u);
  EXPECT_EQ(b.num_params(), a.num_params());
  EXPECT_EQ(b.config.rank_pattern, a.config.rank_pattern);
  for (size_t l = 0; l < 2; ++l)
    for (size_t p = 0; p < kNumProj; ++p) {
      ASSERT_EQ(a.layers[l][p].has_value(), b.layers[l][p].has_value()) << l << " " << p;
      if (!a.layers[l][p]) continue;
      const LoraModule &x = *a.layers[l][p], &y = *b.layers[l][p];
      EXPECT_EQ(y.r, x.r);
      EXPECT_EQ(y.scaling, x.scaling);
      EXPECT_EQ(y.A.shape, x.A.shape);
      EXPECT_EQ(y.A.data, x.A.data);
      EXPECT_EQ(y.B.data, x.B.data);
      EXPECT_EQ(y.dA.shape, x.A.shape);
      EXPECT_EQ(y.dB.shape, x.B.shape);
    }
  EXPECT_EQ(b.layers[0][2]->scaling, 8.0f);  // alpha 16 / r 2 (rank_pattern)
}

TEST_F(AdapterFiles, LoadsBf16Weights) {
  const LoraAdapter a = make_adapter();
  save_peft_adapter(dir, a);
  write_safetensors_f32(dir / "adapter_model.safetensors", tensors_of(a), DType::BF16);
  const LoraAdapter b = load_peft_adapter(dir, model);
  const Tensor& want = a.layers[1][0]->A;
  for (size_t i = 0; i < want.data.size(); ++i)
    EXPECT_EQ(b.layers[1][0]->A.data[i], bf16_to_f32(f32_to_bf16(want.data[i])));
}

TEST_F(AdapterFiles, FolderErrors) {
  EXPECT_CONTAINS(load_error(model), "is not a directory; pass a PEFT adapter folder");
  fs::create_directories(dir);
  EXPECT_CONTAINS(load_error(model), "adapter_config.json not found");
  write_file_atomic(dir / "adapter_config.json", adapter_config_json(recipe_config()));
  EXPECT_CONTAINS(load_error(model), "adapter_model.safetensors not found");
  std::ofstream(dir / "adapter_model.bin") << "x";
  EXPECT_CONTAINS(load_error(model), ".bin adapters are not supported; re-save it with save_pretrained(..., "
                                     "safe_serialization=True)");
  EXPECT_CONTAINS(error_of([&] { save_peft_adapter(dir / "empty", LoraAdapter{}); }), "has no LoRA modules");
}

TEST_F(AdapterFiles, WeightErrors) {
  const LoraAdapter a = make_adapter();
  save_peft_adapter(dir, a);
  const fs::path weights = dir / "adapter_model.safetensors";
  std::vector<NamedTensor> tensors = tensors_of(a);

  // A targeted module's B is missing.
  std::vector<NamedTensor> fewer(tensors.begin(), tensors.end() - 1);
  write_safetensors_f32(weights, fewer, DType::F32);
  EXPECT_CONTAINS(load_error(model), "missing tensor 'base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight'");

  // Shapes from a different model.
  write_safetensors_f32(weights, tensors, DType::F32);
  ModelConfig wider = model;
  wider.hidden_size = 16;
  EXPECT_CONTAINS(load_error(wider), "tensor 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' has "
                                     "shape [8, 8] but [8, 16] is expected; the adapter was trained for a different");

  // Layers beyond the model.
  ModelConfig shallow = model;
  shallow.num_layers = 1;
  EXPECT_CONTAINS(load_error(shallow), "'base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight' is for "
                                       "layer 1 but the model has 1 layers");

  // A module the config does not target.
  const Tensor k_a({8, 8}), k_b({6, 8});
  std::vector<NamedTensor> extra = tensors;
  extra.push_back({LoraAdapter{}.tensor_key(0, Proj::K, 'A'), &k_a});
  extra.push_back({LoraAdapter{}.tensor_key(0, Proj::K, 'B'), &k_b});
  write_safetensors_f32(weights, extra, DType::F32);
  EXPECT_CONTAINS(load_error(model), "is for module model.layers.0.self_attn.k_proj which adapter_config.json's "
                                     "target_modules does not target");

  // A LoRA key outside the decoder projections, and a key that is not LoRA at all.
  extra = tensors;
  extra.push_back({"base_model.model.lm_head.lora_A.weight", &k_a});
  write_safetensors_f32(weights, extra, DType::F32);
  EXPECT_CONTAINS(load_error(model), "'base_model.model.lm_head.lora_A.weight' is a LoRA weight tune.cpp does not");
  extra = tensors;
  extra.push_back({"base_model.model.score.weight", &k_a});
  write_safetensors_f32(weights, extra, DType::F32);
  EXPECT_CONTAINS(load_error(model), "tensor 'base_model.model.score.weight' is not a LoRA weight");

  // No module of the model is targeted.
  write_safetensors_f32(weights, tensors, DType::F32);
  LoraConfig c = a.config;
  c.target_modules = {"lm_head"};
  write_file_atomic(dir / "adapter_config.json", adapter_config_json(c));
  EXPECT_CONTAINS(load_error(model), (dir / "adapter_config.json").string() + ": LoRA target_modules match no module");

  // The config is validated on load.
  c.target_modules = {"q_proj", "v_proj"};
  c.bias = "all";
  write_file_atomic(dir / "adapter_config.json", adapter_config_json(c));
  EXPECT_CONTAINS(load_error(model), (dir / "adapter_config.json").string() + ": bias 'all' is not supported");
}

TEST_F(AdapterFiles, ValueHeadRoundTripAndErrors) {
  const fs::path file = dir / "sub" / "value_head.safetensors";
  const ValueHead h = init_value_head(8, 11);
  save_value_head(file, h);
  const SafetensorsFile f = SafetensorsFile::open(file);
  EXPECT_EQ(f.get("v_head.summary.weight").shape, (Shape{1, 8}));
  EXPECT_EQ(f.get("v_head.summary.bias").shape, (Shape{1}));
  EXPECT_EQ(f.get("v_head.summary.bias").dtype, DType::F32);
  const ValueHead g = load_value_head(file, 8);
  EXPECT_EQ(g.weight.data, h.weight.data);
  EXPECT_EQ(g.bias.data, h.bias.data);
  EXPECT_EQ(g.dweight.shape, (Shape{1, 8}));
  EXPECT_EQ(g.dbias.shape, (Shape{1}));

  EXPECT_CONTAINS(error_of([&] { load_value_head(file, 16); }),
                  "tensor 'v_head.summary.weight' has shape [1, 8] but [1, 16] is expected");
  write_safetensors_f32(file, {{"v_head.summary.weight", &h.weight}}, DType::F32);
  EXPECT_CONTAINS(error_of([&] { load_value_head(file, 8); }), "missing tensor 'v_head.summary.bias'");
  write_safetensors_f32(file, {{"v_head.summary.weight", &h.weight}, {"v_head.summary.bias", &h.bias},
                               {"score.weight", &h.weight}}, DType::F32);
  EXPECT_CONTAINS(error_of([&] { load_value_head(file, 8); }), "unexpected tensor 'score.weight'");
  EXPECT_CONTAINS(error_of([&] { load_value_head(dir / "none.safetensors", 8); }), "none.safetensors not found");
  ValueHead bad = h;
  bad.bias = Tensor({2});
  EXPECT_CONTAINS(error_of([&] { save_value_head(file, bad); }), "expected weight [1, H] and bias [1]");
}

}  // namespace
}  // namespace tune
