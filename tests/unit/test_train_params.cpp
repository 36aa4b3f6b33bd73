// Tests for the trainable-parameter list: PEFT names, HF order, HF decay groups, aliasing and shape checks.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "model/lora.h"
#include "model/value_head.h"
#include "train/params.h"
#include "unit/tiny_model_config.h"

namespace tune {
namespace {

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "message: " << (text) << "\nexpected: " << (part)

LoraAdapter tiny_adapter() {
  LoraConfig cfg;
  cfg.r = 2;
  cfg.lora_alpha = 4;
  cfg.target_modules = {"down_proj", "v_proj", "q_proj"};  // list order does not matter: model order does
  return init_lora(test::tiny_model_config(), cfg, 7);
}

TEST(TrainParams, LoraAndValueHeadInHfOrderWithDecayGroups) {
  LoraAdapter adapter = tiny_adapter();
  ValueHead head = init_value_head(8, 3);
  const std::vector<ParamRef> params = trainable_params(adapter, &head);
  const std::vector<std::string> want = {
      "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
      "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
      "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight",
      "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight",
      "base_model.model.model.layers.0.mlp.down_proj.lora_A.weight",
      "base_model.model.model.layers.0.mlp.down_proj.lora_B.weight",
      "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight",
      "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight",
      "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight",
      "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight",
      "base_model.model.model.layers.1.mlp.down_proj.lora_A.weight",
      "base_model.model.model.layers.1.mlp.down_proj.lora_B.weight",
      "v_head.summary.weight",
      "v_head.summary.bias",
  };
  ASSERT_EQ(params.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(params[i].name, want[i]);
    EXPECT_EQ(params[i].decay, want[i] != "v_head.summary.bias") << want[i];  // LoRA A/B and v_head weight decay
  }
  // The refs alias the adapter's and head's tensors.
  auto& q1 = *adapter.layers[1][static_cast<size_t>(Proj::Q)];
  EXPECT_EQ(params[6].value, &q1.A);
  EXPECT_EQ(params[6].grad, &q1.dA);
  EXPECT_EQ(params[7].value, &q1.B);
  EXPECT_EQ(params[7].grad, &q1.dB);
  EXPECT_EQ(params[12].value, &head.weight);
  EXPECT_EQ(params[12].grad, &head.dweight);
  EXPECT_EQ(params[13].value, &head.bias);
  EXPECT_EQ(params[13].grad, &head.dbias);
  EXPECT_EQ(num_elements(params), adapter.num_params() + 8 + 1);
}

TEST(TrainParams, WithoutValueHead) {
  LoraAdapter adapter = tiny_adapter();
  const std::vector<ParamRef> params = trainable_params(adapter, nullptr);
  EXPECT_EQ(params.size(), 12u);
  EXPECT_EQ(num_elements(params), adapter.num_params());
  for (const ParamRef& p : params) EXPECT_TRUE(p.decay) << p.name;
}

TEST(TrainParams, HfDecayRule) {
  EXPECT_TRUE(hf_decays("base_model.model.model.layers.3.mlp.up_proj.lora_B.weight"));
  EXPECT_TRUE(hf_decays("v_head.summary.weight"));
  EXPECT_FALSE(hf_decays("v_head.summary.bias"));
  EXPECT_FALSE(hf_decays("base_model.model.model.layers.0.self_attn.q_proj.lora_B.bias"));
}

TEST(TrainParams, ZeroGrads) {
  LoraAdapter adapter = tiny_adapter();
  ValueHead head = init_value_head(8, 3);
  const std::vector<ParamRef> params = trainable_params(adapter, &head);
  for (const ParamRef& p : params)
    for (float& g : p.grad->data) g = 1.5f;
  zero_grads(params);
  for (const ParamRef& p : params)
    for (float g : p.grad->data) EXPECT_EQ(g, 0.0f) << p.name;
}

TEST(TrainParams, GradientShapeMustMatch) {
  LoraAdapter adapter = tiny_adapter();
  adapter.layers[0][static_cast<size_t>(Proj::V)]->dB = Tensor({3, 3});
  std::string message;
  try {
    trainable_params(adapter, nullptr);
  } catch (const Error& e) {
    message = e.what();
  }
  EXPECT_CONTAINS(message, "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight");
  EXPECT_CONTAINS(message, "gradient shape [3, 3] differs from the value shape [6, 2]");
}

}  // namespace
}  // namespace tune
