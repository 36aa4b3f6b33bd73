// Tests for LoRA naming, PEFT targeting, rank/alpha patterns, scaling, init and the value head init.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "model/lora.h"
#include "model/value_head.h"
#include "unit/expect_error.h"
#include "unit/tiny_model_config.h"

namespace tune {
namespace {

using test::error_of;

LoraConfig targets(std::vector<std::string> modules) {
  LoraConfig c;
  c.target_modules = std::move(modules);
  return c;
}

// Which (layer, proj) pairs a config targets, as "l:proj" strings.
std::vector<std::string> targeted(const LoraConfig& cfg, int layers = 2) {
  std::vector<std::string> out;
  for (int l = 0; l < layers; ++l)
    for (int p = 0; p < kNumProj; ++p)
      if (lora_targets(cfg, "model.", l, static_cast<Proj>(p)))
        out.push_back(std::to_string(l) + ":" + std::string(kProjNames[static_cast<size_t>(p)]));
  return out;
}

TEST(Lora, NamesAndFeatures) {
  EXPECT_EQ(proj_module_path(Proj::Q), "self_attn.q_proj");
  EXPECT_EQ(proj_module_path(Proj::O), "self_attn.o_proj");
  EXPECT_EQ(proj_module_path(Proj::Gate), "mlp.gate_proj");
  EXPECT_EQ(proj_module_path(Proj::Down), "mlp.down_proj");
  EXPECT_EQ(module_name("model.", 3, Proj::V), "model.layers.3.self_attn.v_proj");
  EXPECT_EQ(module_name("model.", 0, Proj::Up), "model.layers.0.mlp.up_proj");
  const LoraAdapter causal_lm;
  EXPECT_EQ(causal_lm.tensor_key(17, Proj::Q, 'A'), "base_model.model.model.layers.17.self_attn.q_proj.lora_A.weight");
  EXPECT_EQ(causal_lm.tensor_key(0, Proj::Down, 'B'), "base_model.model.model.layers.0.mlp.down_proj.lora_B.weight");
  // Gemma 3's multimodal checkpoints nest the decoder: names follow the checkpoint.
  LoraAdapter nested;
  nested.prefix = "model.language_model.";
  EXPECT_EQ(nested.module_name(2, Proj::O), "model.language_model.layers.2.self_attn.o_proj");
  EXPECT_EQ(nested.tensor_key(2, Proj::O, 'B'),
            "base_model.model.model.language_model.layers.2.self_attn.o_proj.lora_B.weight");

  const ModelConfig c = test::tiny_model_config();
  const int in[] = {8, 8, 8, 12, 8, 8, 12}, out[] = {12, 6, 6, 8, 12, 12, 8};
  for (int p = 0; p < kNumProj; ++p) {
    EXPECT_EQ(proj_in_features(c, static_cast<Proj>(p)), in[p]) << kProjNames[p];
    EXPECT_EQ(proj_out_features(c, static_cast<Proj>(p)), out[p]) << kProjNames[p];
  }
}

TEST(Lora, ListTargetsMatchNameOrDottedSuffix) {
  EXPECT_EQ(targeted(targets({"q_proj", "v_proj"})),
            (std::vector<std::string>{"0:q_proj", "0:v_proj", "1:q_proj", "1:v_proj"}));
  EXPECT_EQ(targeted(targets({"self_attn.o_proj", "model.layers.1.mlp.down_proj"})),
            (std::vector<std::string>{"0:o_proj", "1:o_proj", "1:down_proj"}));
  EXPECT_TRUE(targeted(targets({"proj", "_proj", "layers.0", "mlp"})).empty());  // suffix must start after a '.'
}

TEST(Lora, RegexTargetsMustFullmatch) {
  LoraConfig c;
  c.target_regex = R"(.*\.(q|v)_proj)";
  EXPECT_EQ(targeted(c), (std::vector<std::string>{"0:q_proj", "0:v_proj", "1:q_proj", "1:v_proj"}));
  c.target_regex = "q_proj";  // not a full match of any module name
  EXPECT_TRUE(targeted(c).empty());
  c.target_regex = R"(model\.layers\.1\.mlp\..*)";
  EXPECT_EQ(targeted(c), (std::vector<std::string>{"1:gate_proj", "1:up_proj", "1:down_proj"}));
  c.target_regex = "(";
  EXPECT_CONTAINS(error_of([&] { lora_targets(c, "model.", 0, Proj::Q); }),
                  "target_modules regex '(' is not a valid regular expression");
}

TEST(Lora, RankAndAlphaPatterns) {
  LoraConfig c = targets({"q_proj"});
  c.r = 8;
  c.lora_alpha = 16;
  c.rank_pattern = {{"q_proj", 4}, {"model.layers.1.mlp.down_proj", 2}, {R"(layers\.[01]\.self_attn\.k_proj)", 6}};
  c.alpha_pattern = {{"up_proj", 3.5f}, {"proj", 99.0f}};
  EXPECT_EQ(lora_rank_for(c, "model.layers.0.self_attn.q_proj"), 4);
  EXPECT_EQ(lora_rank_for(c, "model.layers.1.mlp.down_proj"), 2);
  EXPECT_EQ(lora_rank_for(c, "model.layers.0.mlp.down_proj"), 8);  // layer 0 is not in the pattern
  EXPECT_EQ(lora_rank_for(c, "model.layers.1.self_attn.k_proj"), 6);
  EXPECT_EQ(lora_rank_for(c, "model.layers.0.self_attn.v_proj"), 8);
  EXPECT_FLOAT_EQ(lora_alpha_for(c, "model.layers.0.mlp.up_proj"), 3.5f);
  EXPECT_FLOAT_EQ(lora_alpha_for(c, "model.layers.0.mlp.gate_proj"), 16.0f);  // "proj" must follow a '.'
  c.rank_pattern = {{"[", 1}};
  EXPECT_CONTAINS(error_of([&] { lora_rank_for(c, "model.layers.0.self_attn.q_proj"); }),
                  "rank_pattern key '[' is not a valid regular expression");
}

TEST(Lora, ScalingPerModule) {
  const ModelConfig m = test::tiny_model_config();
  LoraConfig c = targets({"q_proj", "v_proj"});
  c.r = 8;
  c.lora_alpha = 16;
  c.rank_pattern = {{"v_proj", 4}};
  c.alpha_pattern = {{"model.layers.1.self_attn.q_proj", 2.0f}};
  LoraAdapter a = init_lora(m, c, 1);
  EXPECT_FLOAT_EQ(a.layers[0][0]->scaling, 2.0f);   // 16 / 8
  EXPECT_FLOAT_EQ(a.layers[0][2]->scaling, 4.0f);   // 16 / 4
  EXPECT_FLOAT_EQ(a.layers[1][0]->scaling, 0.25f);  // 2 / 8
  EXPECT_EQ(a.layers[0][2]->r, 4);
  EXPECT_EQ(a.layers[0][2]->A.shape, (Shape{4, 8}));
  EXPECT_EQ(a.layers[0][2]->B.shape, (Shape{6, 4}));
  c.use_rslora = true;
  a = init_lora(m, c, 1);
  EXPECT_FLOAT_EQ(a.layers[0][0]->scaling, static_cast<float>(16.0 / std::sqrt(8.0)));
  EXPECT_FLOAT_EQ(a.layers[0][2]->scaling, 8.0f);  // 16 / sqrt(4)
  EXPECT_FLOAT_EQ(a.layers[1][0]->scaling, static_cast<float>(2.0 / std::sqrt(8.0)));
}

TEST(Lora, InitBoundsShapesAndDrawOrder) {
  const ModelConfig m = test::tiny_model_config();
  LoraConfig c = targets({"q_proj", "o_proj", "down_proj"});
  c.r = 3;
  const LoraAdapter a = init_lora(m, c, 42);
  ASSERT_EQ(a.layers.size(), 2u);
  EXPECT_EQ(a.config.target_modules, c.target_modules);
  for (const auto& layer : a.layers) {
    EXPECT_FALSE(layer[1] || layer[2] || layer[4] || layer[5]);
    for (int p : {0, 3, 6}) {
      ASSERT_TRUE(layer[static_cast<size_t>(p)]);
      const LoraModule& mod = *layer[static_cast<size_t>(p)];
      const int in = proj_in_features(m, static_cast<Proj>(p)), out = proj_out_features(m, static_cast<Proj>(p));
      EXPECT_EQ(mod.A.shape, (Shape{3, in}));
      EXPECT_EQ(mod.B.shape, (Shape{out, 3}));
      EXPECT_EQ(mod.dA.shape, mod.A.shape);
      EXPECT_EQ(mod.dB.shape, mod.B.shape);
      const float bound = 1.0f / std::sqrt(static_cast<float>(in));
      for (float x : mod.A.data) EXPECT_LE(std::abs(x), bound);
      for (float x : mod.B.data) EXPECT_EQ(x, 0.0f);
      for (float x : mod.dA.data) EXPECT_EQ(x, 0.0f);
      for (float x : mod.dB.data) EXPECT_EQ(x, 0.0f);
    }
  }
  // Documented order: layer-major, projections in q,k,v,o,gate,up,down order, A row-major; each value takes the top
  // 24 bits of one mt19937_64 draw.
  std::mt19937_64 rng(42);
  auto next = [&](float bound) { return (2.0f * static_cast<float>(rng() >> 40) * 0x1.0p-24f - 1.0f) * bound; };
  for (const auto& layer : a.layers)
    for (int p : {0, 3, 6}) {
      const Tensor& A = layer[static_cast<size_t>(p)]->A;
      const float bound = 1.0f / std::sqrt(static_cast<float>(A.dim(1)));
      for (float x : A.data) ASSERT_EQ(x, next(bound));
    }
}

TEST(Lora, InitIsDeterministicPerSeed) {
  const ModelConfig m = test::tiny_model_config();
  const LoraConfig c = targets({"q_proj", "v_proj"});
  const LoraAdapter a = init_lora(m, c, 7), b = init_lora(m, c, 7), d = init_lora(m, c, 8);
  EXPECT_EQ(a.layers[1][2]->A.data, b.layers[1][2]->A.data);
  EXPECT_NE(a.layers[1][2]->A.data, d.layers[1][2]->A.data);
  // The draws cover the range: with 64 values in (-1/sqrt(8), 1/sqrt(8)), both signs appear and the spread is wide.
  float lo = 1, hi = -1;
  for (float x : a.layers[0][0]->A.data) lo = std::min(lo, x), hi = std::max(hi, x);
  EXPECT_LT(lo, -0.2f);
  EXPECT_GT(hi, 0.2f);
}

TEST(Lora, NumParamsAndZeroGrad) {
  LoraAdapter a = init_lora(test::tiny_model_config(), targets({"q_proj", "v_proj"}), 1);
  EXPECT_EQ(a.num_params(), 2 * ((8 * 8 + 12 * 8) + (8 * 8 + 6 * 8)));
  a.layers[1][0]->dA.data[3] = 1.5f;
  a.layers[0][2]->dB.data[0] = -2.0f;
  a.zero_grad();
  EXPECT_EQ(a.layers[1][0]->dA.data[3], 0.0f);
  EXPECT_EQ(a.layers[0][2]->dB.data[0], 0.0f);

  // gemma-2b with r=8 on q,k,v,o: 1,843,200 trainable parameters (spec §3.5).
  ModelConfig g = test::tiny_model_config();
  g.vocab_size = 256000;
  g.hidden_size = 2048;
  g.intermediate_size = 16384;
  g.num_layers = 18;
  g.num_heads = 8;
  g.num_kv_heads = 1;
  g.head_dim = 256;
  EXPECT_EQ(init_lora(g, targets({"q_proj", "k_proj", "v_proj", "o_proj"}), 0).num_params(), 1843200);
}

TEST(Lora, InitErrors) {
  EXPECT_CONTAINS(error_of([] { init_lora(test::tiny_model_config(), targets({"lm_head"}), 0); }),
                  "LoRA target_modules match no module of the model");
  LoraConfig c = targets({"q_proj"});
  c.r = 0;
  EXPECT_CONTAINS(error_of([&] { init_lora(test::tiny_model_config(), c, 0); }),
                  "LoRA rank for model.layers.0.self_attn.q_proj must be > 0, got 0");
}

TEST(ValueHead, InitAndZeroGrad) {
  ValueHead h = init_value_head(16, 3);
  EXPECT_EQ(h.weight.shape, (Shape{1, 16}));
  EXPECT_EQ(h.bias.shape, (Shape{1}));
  EXPECT_EQ(h.dweight.shape, (Shape{1, 16}));
  EXPECT_EQ(h.dbias.shape, (Shape{1}));
  std::mt19937_64 rng(3);
  auto next = [&] { return (2.0f * static_cast<float>(rng() >> 40) * 0x1.0p-24f - 1.0f) * 0.25f; };
  for (float x : h.weight.data) {
    EXPECT_LE(std::abs(x), 0.25f);
    EXPECT_EQ(x, next());
  }
  EXPECT_EQ(h.bias.data[0], next());  // the bias is drawn after the weights
  EXPECT_EQ(init_value_head(16, 3).weight.data, h.weight.data);
  EXPECT_NE(init_value_head(16, 4).weight.data, h.weight.data);
  h.dweight.data[5] = 1.0f;
  h.dbias.data[0] = 2.0f;
  h.zero_grad();
  EXPECT_EQ(h.dweight.data[5], 0.0f);
  EXPECT_EQ(h.dbias.data[0], 0.0f);
  EXPECT_CONTAINS(error_of([] { init_value_head(0, 1); }), "hidden_size must be > 0");
}

}  // namespace
}  // namespace tune
