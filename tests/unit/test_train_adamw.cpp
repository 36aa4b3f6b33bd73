// Tests for AdamW by hand values, the decay groups, the constructor checks and the checkpoint state round trip.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include "core/error.h"
#include "io/safetensors.h"
#include "train/adamw.h"
#include "unit/expect_error.h"

namespace tune {
namespace {

using test::error_of;

namespace fs = std::filesystem;

struct TwoParams {
  Tensor w{Shape{2, 3}}, gw{Shape{2, 3}}, b{Shape{1}}, gb{Shape{1}};
  TwoParams() {
    w.data = {0.5f, -0.25f, 1.0f, 2.0f, -1.5f, 0.125f};
    b.data = {0.75f};
  }
  std::vector<ParamRef> refs() {
    return {{"layer.weight", &w, &gw, true}, {"layer.bias", &b, &gb, false}};
  }
  void set_grads(float k) {
    for (size_t i = 0; i < gw.data.size(); ++i) gw.data[i] = k * static_cast<float>(i + 1) - 0.3f;
    gb.data[0] = -k;
  }
};

TEST(AdamW, FirstStepIsSignTimesLr) {
  // Step 1: m̂ = g, v̂ = g², so θ −= lr · g / (|g| + eps·…) ≈ lr · sign(g).
  TwoParams p;
  p.set_grads(1.0f);
  AdamW opt(p.refs(), AdamWOptions{});
  opt.step(0.1);
  EXPECT_NEAR(p.w.data[0], 0.5f - 0.1f, 1e-6f);   // g = 0.7
  EXPECT_NEAR(p.w.data[1], -0.25f - 0.1f, 1e-6f);  // g = 1.7
  EXPECT_NEAR(p.b.data[0], 0.75f + 0.1f, 1e-6f);   // g = −1
  EXPECT_EQ(opt.state().step, 1);
}

TEST(AdamW, WeightDecayOnlyOnTheDecayGroupAndDecoupled) {
  TwoParams p;  // zero grads: only decay moves anything
  AdamWOptions o;
  o.weight_decay = 0.1;
  AdamW opt(p.refs(), o);
  const Tensor before = p.w;
  opt.step(0.01);
  const float factor = static_cast<float>(1.0 - 0.01 * 0.1);
  for (size_t i = 0; i < before.data.size(); ++i) EXPECT_EQ(p.w.data[i], before.data[i] * factor);
  EXPECT_EQ(p.b.data[0], 0.75f);  // bias: no decay group
}

TEST(AdamW, ZeroLrChangesNothingButTheMoments) {
  TwoParams p;
  p.set_grads(2.0f);
  AdamWOptions o;
  o.weight_decay = 0.5;
  AdamW opt(p.refs(), o);
  const Tensor w = p.w, b = p.b;
  opt.step(0.0);
  EXPECT_EQ(p.w.data, w.data);
  EXPECT_EQ(p.b.data, b.data);
  EXPECT_EQ(opt.state().step, 1);
  EXPECT_NE(opt.state().exp_avg[0].data[0], 0.0f);
  EXPECT_NE(opt.state().exp_avg_sq[1].data[0], 0.0f);
}

TEST(AdamW, OptionChecks) {
  TwoParams p;
  AdamWOptions o;
  o.beta1 = 1.0;
  EXPECT_CONTAINS(error_of([&] { AdamW(p.refs(), o); }), "adam_beta1");
  o = {};
  o.beta2 = -0.1;
  EXPECT_CONTAINS(error_of([&] { AdamW(p.refs(), o); }), "adam_beta2");
  o = {};
  o.eps = -1.0;
  EXPECT_CONTAINS(error_of([&] { AdamW(p.refs(), o); }), "adam_epsilon");
  o = {};
  o.weight_decay = -0.01;
  EXPECT_CONTAINS(error_of([&] { AdamW(p.refs(), o); }), "weight_decay");
}

TEST(AdamW, FromPlan) {
  Plan plan;
  plan.adam_beta1 = 0.8;
  plan.adam_beta2 = 0.99;
  plan.adam_epsilon = 1e-6;
  plan.weight_decay = 0.02;
  const AdamWOptions o = adamw_options(plan);
  EXPECT_EQ(o.beta1, 0.8);
  EXPECT_EQ(o.beta2, 0.99);
  EXPECT_EQ(o.eps, 1e-6);
  EXPECT_EQ(o.weight_decay, 0.02);
}

class AdamWState : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tune_test_adamw_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(AdamWState, SaveLoadResumesBitwise) {
  AdamWOptions o;
  o.weight_decay = 0.01;
  TwoParams a;
  AdamW opt_a(a.refs(), o);
  for (int k = 1; k <= 3; ++k) {
    a.set_grads(static_cast<float>(k));
    opt_a.step(1e-2 / k);
  }
  const fs::path file = dir_ / "optimizer.safetensors";
  write_safetensors_f32(file, opt_a.state_tensors(), DType::F32, opt_a.state_metadata());

  TwoParams b;
  b.w = a.w;
  b.b = a.b;
  AdamW opt_b(b.refs(), o);
  opt_b.load_state(SafetensorsFile::open(file));
  EXPECT_EQ(opt_b.state().step, 3);
  a.set_grads(4.0f);
  b.set_grads(4.0f);
  opt_a.step(2e-3);
  opt_b.step(2e-3);
  EXPECT_EQ(a.w.data, b.w.data);
  EXPECT_EQ(a.b.data, b.b.data);
  EXPECT_EQ(opt_a.state().exp_avg_sq[0].data, opt_b.state().exp_avg_sq[0].data);
  const SafetensorsFile f = SafetensorsFile::open(file);
  EXPECT_NE(f.find("layer.weight.exp_avg"), nullptr);
  EXPECT_NE(f.find("layer.bias.exp_avg_sq"), nullptr);
  EXPECT_EQ(f.metadata().at("step"), "3");
}

TEST_F(AdamWState, LoadRejectsStateOfOtherParams) {
  TwoParams p;
  AdamW opt(p.refs(), AdamWOptions{});
  const fs::path file = dir_ / "optimizer.safetensors";

  Tensor wrong({3, 2}), m1({1});
  write_safetensors_f32(file, {{"layer.weight.exp_avg", &wrong}, {"layer.weight.exp_avg_sq", &wrong},
                               {"layer.bias.exp_avg", &m1}, {"layer.bias.exp_avg_sq", &m1}},
                        DType::F32, {{"format", "pt"}, {"step", "2"}});
  EXPECT_CONTAINS(error_of([&] { opt.load_state(SafetensorsFile::open(file)); }), "[2, 3]");

  Tensor w({2, 3});
  write_safetensors_f32(file, {{"layer.weight.exp_avg", &w}, {"layer.weight.exp_avg_sq", &w},
                               {"other.bias.exp_avg", &m1}, {"other.bias.exp_avg_sq", &m1}},
                        DType::F32, {{"format", "pt"}, {"step", "2"}});
  const std::string missing = error_of([&] { opt.load_state(SafetensorsFile::open(file)); });
  EXPECT_CONTAINS(missing, "no tensor 'layer.bias.exp_avg'");
  EXPECT_CONTAINS(missing, "lora_target");

  write_safetensors_f32(file, {{"layer.weight.exp_avg", &w}, {"layer.weight.exp_avg_sq", &w}}, DType::F32,
                        {{"format", "pt"}, {"step", "2"}});
  EXPECT_CONTAINS(error_of([&] { opt.load_state(SafetensorsFile::open(file)); }), "has 2 tensors, expected 4");

  write_safetensors_f32(file, opt.state_tensors(), DType::F32, {{"format", "pt"}});
  EXPECT_CONTAINS(error_of([&] { opt.load_state(SafetensorsFile::open(file)); }), "no \"step\"");
  write_safetensors_f32(file, opt.state_tensors(), DType::F32, {{"format", "pt"}, {"step", "2x"}});
  EXPECT_CONTAINS(error_of([&] { opt.load_state(SafetensorsFile::open(file)); }), "\"step\" is '2x'");
  EXPECT_EQ(opt.state().step, 0);  // failed loads leave the state alone
}

}  // namespace
}  // namespace tune
