// Tests for HF weight loading/saving: round trips, sharded index loading, and the error cases.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "core/error.h"
#include "io/hf_weights.h"
#include "io/safetensors.h"
#include "unit/expect_error.h"
#include "unit/tiny_model_config.h"

namespace tune {
namespace {

using test::error_of;

namespace fs = std::filesystem;

// The checkpoint's tensors by their HF names (spec §1.2), written out independently of the library.
std::vector<NamedTensor> named(const ModelWeights& w) {
  std::vector<NamedTensor> out{{"model.embed_tokens.weight", &w.embed}, {"model.norm.weight", &w.final_norm}};
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const LayerWeights& L = w.layers[l];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    out.push_back({p + "input_layernorm.weight", &L.input_norm});
    out.push_back({p + "self_attn.q_proj.weight", &L.q.dense});
    out.push_back({p + "self_attn.k_proj.weight", &L.k.dense});
    out.push_back({p + "self_attn.v_proj.weight", &L.v.dense});
    out.push_back({p + "self_attn.o_proj.weight", &L.o.dense});
    out.push_back({p + "post_attention_layernorm.weight", &L.mlp_norm});
    out.push_back({p + "mlp.gate_proj.weight", &L.gate.dense});
    out.push_back({p + "mlp.up_proj.weight", &L.up.dense});
    out.push_back({p + "mlp.down_proj.weight", &L.down.dense});
  }
  return out;
}

Tensor filled(Shape shape, float seed) {
  Tensor t(std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t.data[static_cast<size_t>(i)] = std::sin(seed * 1.37f + 0.011f * i) / 3.0f;
  return t;
}

ModelWeights make_weights(const ModelConfig& c) {
  const int64_t H = c.hidden_size, I = c.intermediate_size, Q = c.q_dim(), KV = c.kv_dim();
  ModelWeights w;
  float s = 1.0f;
  w.embed = filled({c.vocab_size, H}, s++);
  w.final_norm = filled({H}, s++);
  for (int l = 0; l < c.num_layers; ++l) {
    LayerWeights L;
    L.input_norm = filled({H}, s++);
    L.q.dense = filled({Q, H}, s++);
    L.k.dense = filled({KV, H}, s++);
    L.v.dense = filled({KV, H}, s++);
    L.o.dense = filled({H, Q}, s++);
    L.mlp_norm = filled({H}, s++);
    L.gate.dense = filled({I, H}, s++);
    L.up.dense = filled({I, H}, s++);
    L.down.dense = filled({H, I}, s++);
    w.layers.push_back(std::move(L));
  }
  return w;
}

// Every tensor of `got` equals `want` after rounding through `dtype`.
void expect_weights_eq(const ModelWeights& want, const ModelWeights& got, DType dtype) {
  const std::vector<NamedTensor> a = named(want), b = named(got);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].tensor->shape, b[i].tensor->shape) << a[i].name;
    for (int64_t j = 0; j < a[i].tensor->numel(); ++j) {
      const float x = a[i].tensor->data[static_cast<size_t>(j)];
      const float expected = dtype == DType::BF16 ? bf16_to_f32(f32_to_bf16(x)) : x;
      ASSERT_EQ(b[i].tensor->data[static_cast<size_t>(j)], expected) << a[i].name << " [" << j << "]";
    }
  }
}

class HfWeights : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("tune_test_hf_weights_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  // Writes `tensors` as model.safetensors in F32.
  void write_single(const std::vector<NamedTensor>& tensors) {
    write_safetensors_f32(dir / "model.safetensors", tensors, DType::F32);
  }
  std::string load_error() {
    return error_of([&] { load_hf_weights(dir, cfg); });
  }

  fs::path dir;
  ModelConfig cfg = test::tiny_model_config();
  ModelWeights w = make_weights(cfg);
};

TEST_F(HfWeights, RoundTripF32IsExact) {
  save_hf_weights(dir, cfg, w, DType::F32);
  const SafetensorsFile f = SafetensorsFile::open(dir / "model.safetensors");
  EXPECT_EQ(f.tensors().size(), 2u + 9u * 2u);
  EXPECT_EQ(f.get("model.layers.1.self_attn.o_proj.weight").shape, (Shape{8, 12}));
  EXPECT_EQ(f.get("model.layers.0.self_attn.k_proj.weight").dtype, DType::F32);
  expect_weights_eq(w, load_hf_weights(dir, cfg), DType::F32);
}

TEST_F(HfWeights, RoundTripBf16RoundsValues) {
  save_hf_weights(dir, cfg, w, DType::BF16);
  const SafetensorsFile f = SafetensorsFile::open(dir / "model.safetensors");
  EXPECT_EQ(f.get("model.embed_tokens.weight").dtype, DType::BF16);
  const ModelWeights got = load_hf_weights(dir, cfg);
  expect_weights_eq(w, got, DType::BF16);
  // bf16 keeps 8 significant bits, so some values really changed.
  EXPECT_NE(got.layers[0].q.dense.data[1], w.layers[0].q.dense.data[1]);
  EXPECT_NEAR(got.layers[0].q.dense.data[1], w.layers[0].q.dense.data[1], 1.0 / 256);
}

TEST_F(HfWeights, TiedLmHeadIsIgnored) {
  std::vector<NamedTensor> tensors = named(w);
  tensors.push_back({"lm_head.weight", &w.embed});
  write_single(tensors);
  expect_weights_eq(w, load_hf_weights(dir, cfg), DType::F32);
}

TEST_F(HfWeights, ShardedIndexLoads) {
  const std::vector<NamedTensor> all = named(w);
  const std::vector<NamedTensor> first(all.begin(), all.begin() + 7), second(all.begin() + 7, all.end());
  write_safetensors_f32(dir / "model-00001-of-00002.safetensors", first, DType::BF16);
  write_safetensors_f32(dir / "model-00002-of-00002.safetensors", second, DType::BF16);
  nlohmann::json index;
  index["metadata"] = {{"total_size", 1234}, {"total_parameters", 617}};
  for (const NamedTensor& t : first) index["weight_map"][t.name] = "model-00001-of-00002.safetensors";
  for (const NamedTensor& t : second) index["weight_map"][t.name] = "model-00002-of-00002.safetensors";
  std::ofstream(dir / "model.safetensors.index.json") << index.dump(2);
  expect_weights_eq(w, load_hf_weights(dir, cfg), DType::BF16);

  // A shard the index names is missing.
  fs::remove(dir / "model-00002-of-00002.safetensors");
  EXPECT_CONTAINS(load_error(), "names shard 'model-00002-of-00002.safetensors' but it is missing");

  // The index places a key in a shard that does not hold it.
  write_safetensors_f32(dir / "model-00002-of-00002.safetensors", second, DType::BF16);
  index["weight_map"]["model.norm.weight"] = "model-00002-of-00002.safetensors";  // it is in shard 1
  std::ofstream(dir / "model.safetensors.index.json") << index.dump(2);
  EXPECT_CONTAINS(load_error(), "says tensor 'model.norm.weight' is in model-00002-of-00002.safetensors, but that "
                                "shard does not contain it");

  // An expected key is absent from the index.
  index["weight_map"].erase("model.norm.weight");
  std::ofstream(dir / "model.safetensors.index.json") << index.dump(2);
  EXPECT_CONTAINS(load_error(), "missing tensor 'model.norm.weight' in weight_map");

  // Malformed index files.
  std::ofstream(dir / "model.safetensors.index.json") << R"({"weight_map": {"model.norm.weight": 3}})";
  EXPECT_CONTAINS(load_error(), "weight_map['model.norm.weight'] must be a file name, got 3");
  std::ofstream(dir / "model.safetensors.index.json") << R"({"weight_map": {"model.norm.weight": "../x"}})";
  EXPECT_CONTAINS(load_error(), "must be a plain file name");
  std::ofstream(dir / "model.safetensors.index.json") << R"({"metadata": {}})";
  EXPECT_CONTAINS(load_error(), "missing 'weight_map' object");
  std::ofstream(dir / "model.safetensors.index.json") << "{";
  EXPECT_CONTAINS(load_error(), "model.safetensors.index.json: not valid JSON");
}

TEST_F(HfWeights, MissingKeyNamesKeyAndFile) {
  std::vector<NamedTensor> tensors = named(w);
  tensors.erase(tensors.begin() + 4);  // model.layers.0.self_attn.k_proj.weight
  write_single(tensors);
  EXPECT_CONTAINS(load_error(), (dir / "model.safetensors").string() +
                                    ": missing tensor 'model.layers.0.self_attn.k_proj.weight'");
}

TEST_F(HfWeights, WrongShapeNamesBothShapes) {
  w.layers[1].down.dense = filled({12, 8}, 3.0f);  // transposed
  write_single(named(w));
  EXPECT_CONTAINS(load_error(), "tensor 'model.layers.1.mlp.down_proj.weight' has shape [12, 8] but config.json "
                                "implies [8, 12]");
}

TEST_F(HfWeights, UnknownKeysAreErrors) {
  std::vector<NamedTensor> tensors = named(w);
  const Tensor extra = filled({6}, 9.0f);
  tensors.push_back({"model.layers.0.self_attn.q_norm.weight", &extra});
  write_single(tensors);
  EXPECT_CONTAINS(load_error(), "unexpected tensors for a gemma model: model.layers.0.self_attn.q_norm.weight");

  // An untied lm_head (shape differs from the embedding) is not an alias.
  tensors = named(w);
  const Tensor head = filled({15, 8}, 4.0f);
  tensors.push_back({"lm_head.weight", &head});
  write_single(tensors);
  EXPECT_CONTAINS(load_error(), "unexpected tensors for a gemma model: lm_head.weight");

  // Many extras: the first five are listed with a count.
  tensors = named(w);
  std::vector<std::string> names;
  for (int i = 0; i < 7; ++i) names.push_back("extra." + std::to_string(i));
  for (const std::string& n : names) tensors.push_back({n, &extra});
  write_single(tensors);
  EXPECT_CONTAINS(load_error(), "extra.0, extra.1, extra.2, extra.3, extra.4, ... (7 in all)");
}

TEST_F(HfWeights, IntegerTensorIsAnError) {
  std::vector<NamedTensor> tensors = named(w);
  tensors.erase(tensors.begin() + 1);  // model.norm.weight, rewritten below as I32
  std::vector<std::vector<std::byte>> storage;
  std::vector<TensorToWrite> raw;
  for (const NamedTensor& t : tensors) {
    storage.emplace_back(t.tensor->data.size() * 4);
    std::memcpy(storage.back().data(), t.tensor->data.data(), storage.back().size());
    raw.push_back({t.name, DType::F32, t.tensor->shape, storage.back()});
  }
  std::vector<std::byte> ints(8 * 4);
  raw.push_back({"model.norm.weight", DType::I32, {8}, ints});
  write_safetensors(dir / "model.safetensors", raw);
  EXPECT_CONTAINS(load_error(), "tensor 'model.norm.weight' has dtype I32; model weights must be a floating-point");
}

TEST_F(HfWeights, DirectoryErrors) {
  EXPECT_CONTAINS(load_error(), "neither model.safetensors nor model.safetensors.index.json found");
  std::ofstream(dir / "pytorch_model.bin") << "x";
  EXPECT_CONTAINS(load_error(), ".bin checkpoints are not supported");
}

// An untied head is lm_head.weight [V, H]: saved and loaded with the rest, and required when the config unties it.
TEST_F(HfWeights, UntiedHeadRoundTripsAndIsRequired) {
  save_hf_weights(dir, cfg, w, DType::F32);
  ModelConfig untied = cfg;
  untied.tie_word_embeddings = false;
  EXPECT_CONTAINS(error_of([&] { load_hf_weights(dir, untied); }), "missing tensor 'lm_head.weight'");
  ModelWeights with_head = w;
  with_head.lm_head = filled({untied.vocab_size, untied.hidden_size}, 99.0f);
  save_hf_weights(dir, untied, with_head, DType::F32);
  const ModelWeights back = load_hf_weights(dir, untied);
  EXPECT_EQ(back.lm_head.data, with_head.lm_head.data);
  EXPECT_EQ(back.head().data, with_head.lm_head.data);
  EXPECT_EQ(back.embed.data, w.embed.data);
}

TEST_F(HfWeights, SaveChecksShapes) {
  ModelWeights bad = w;
  bad.layers.pop_back();
  EXPECT_CONTAINS(error_of([&] { save_hf_weights(dir, cfg, bad, DType::F32); }),
                  "weights have 1 layers but the config has 2");
  bad = w;
  bad.final_norm = filled({7}, 1.0f);
  EXPECT_CONTAINS(error_of([&] { save_hf_weights(dir, cfg, bad, DType::F32); }),
                  "tensor 'model.norm.weight' has shape [7] but the config implies [8]");
  EXPECT_FALSE(fs::exists(dir / "model.safetensors"));
}

}  // namespace
}  // namespace tune
