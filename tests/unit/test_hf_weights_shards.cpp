// save_hf_weights with a shard limit: huggingface_hub's greedy split over transformers 5.x's "dot natural" key order,
// shard names and index as save_pretrained writes them, and a sharded folder that loads back unchanged.
#include <gtest/gtest.h>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "io/hf_weights.h"
#include "model/random_init.h"
#include "unit/tiny_model_config.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

class Shards : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tune_shards_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // tensor name -> shard number (1-based) from the index.
  std::map<std::string, int> shard_of() const {
    const auto index = nlohmann::json::parse(read_text_file(dir_ / "model.safetensors.index.json"));
    std::map<std::string, int> out;
    for (const auto& [key, file] : index["weight_map"].items())
      out[key] = std::stoi(file.get<std::string>().substr(6, 5));  // model-0000i-of-...
    return out;
  }
  fs::path dir_;
};

TEST_F(Shards, GreedySplitInDotNaturalOrder) {
  const ModelConfig cfg = test::tiny_model_config();
  const ModelWeights w = random_weights(cfg, 1);
  const std::vector<std::string> files = save_hf_weights(dir_, cfg, w, DType::F32, 400);
  ASSERT_GE(files.size(), 3u);
  EXPECT_EQ(files.back(), "model.safetensors.index.json");
  const std::string n = std::to_string(files.size() - 1);
  EXPECT_EQ(files.front(), "model-00001-of-" + std::string(5 - n.size(), '0') + n + ".safetensors");
  const std::map<std::string, int> shard = shard_of();
  EXPECT_EQ(shard.size(), 20u);  // 9 per layer + embed + norm; no lm_head
  EXPECT_EQ(shard.count("lm_head.weight"), 0u);
  // embed (512 B > 400) alone; then input_layernorm (32) is closed off by down_proj (384), which sorts next.
  EXPECT_EQ(shard.at("model.embed_tokens.weight"), 1);
  EXPECT_EQ(shard.at("model.layers.0.input_layernorm.weight"), 2);
  EXPECT_EQ(shard.at("model.layers.0.mlp.down_proj.weight"), 3);
  // post_attention_layernorm (32) + self_attn.k_proj (192) share one; v_proj + the next layer's input norm another.
  EXPECT_EQ(shard.at("model.layers.0.post_attention_layernorm.weight"),
            shard.at("model.layers.0.self_attn.k_proj.weight"));
  EXPECT_EQ(shard.at("model.layers.0.self_attn.v_proj.weight"), shard.at("model.layers.1.input_layernorm.weight"));
  const auto index = nlohmann::json::parse(read_text_file(dir_ / "model.safetensors.index.json"));
  EXPECT_EQ(index["metadata"]["total_size"].get<int64_t>(), 4 * (16 * 8 + 2 * (2 * 8 + 2 * 96 + 2 * 48 + 3 * 96) + 8));
  EXPECT_EQ(index["metadata"]["total_parameters"].get<int64_t>(), index["metadata"]["total_size"].get<int64_t>() / 4);

  const ModelWeights back = load_hf_weights(dir_, cfg);
  EXPECT_EQ(back.embed.data, w.embed.data);
  EXPECT_EQ(back.layers[1].down.dense.data, w.layers[1].down.dense.data);
  EXPECT_EQ(back.final_norm.data, w.final_norm.data);
}

// A tensor over the limit gets its own shard, placed before the shard still being filled (huggingface_hub's rule).
TEST_F(Shards, OversizedTensorsGoBeforeTheOpenShard) {
  const ModelConfig cfg = test::tiny_model_config();
  save_hf_weights(dir_, cfg, random_weights(cfg, 2), DType::F32, 300);
  const std::map<std::string, int> shard = shard_of();
  EXPECT_LT(shard.at("model.layers.0.mlp.down_proj.weight"), shard.at("model.layers.0.input_layernorm.weight"));
  EXPECT_EQ(shard.at("model.layers.0.input_layernorm.weight"),
            shard.at("model.layers.0.post_attention_layernorm.weight"));
}

TEST_F(Shards, OneShardIsModelSafetensors) {
  const ModelConfig cfg = test::tiny_model_config();
  EXPECT_EQ(save_hf_weights(dir_, cfg, random_weights(cfg, 3), DType::BF16, 1'000'000),
            std::vector<std::string>{"model.safetensors"});
  EXPECT_FALSE(fs::exists(dir_ / "model.safetensors.index.json"));
  EXPECT_EQ(stored_weights_dtype(dir_, test::tiny_model_config()), DType::BF16);
}

}  // namespace
}  // namespace tune
