// Tests for the dynamic loss scaler against torch's _amp_update_scale_ / unscale kernels and its default schedule.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/safetensors.h"
#include "train/loss_scaler.h"
#include "unit/expect_error.h"

namespace tune {
namespace {

using test::error_of;

SafetensorsFile golden() { return SafetensorsFile::open(std::string(TUNE_TEST_DATA) + "/optim/scaler.safetensors"); }

TEST(LossScaler, UpdateSequenceMatchesTorch) {
  const SafetensorsFile f = golden();
  LossScalerOptions o;
  o.growth_interval = std::stoi(f.metadata().at("growth_interval"));
  LossScaler scaler(o);
  EXPECT_EQ(scaler.scale(), 65536.0f);
  const Tensor flags = f.read_f32("flags"), scales = f.read_f32("scale"), trackers = f.read_f32("growth_tracker");
  ASSERT_GT(flags.numel(), 10);
  for (int64_t i = 0; i < flags.numel(); ++i) {
    scaler.update(flags.data[i] != 0.0f);
    EXPECT_EQ(scaler.scale(), scales.data[i]) << "update " << i;
    EXPECT_EQ(scaler.state().growth_tracker, static_cast<int32_t>(trackers.data[i])) << "update " << i;
  }
}

TEST(LossScaler, DefaultsGrowAfter2000CleanStepsAndBackOffOnOverflow) {
  LossScaler scaler;
  for (int i = 0; i < 1999; ++i) scaler.update(false);
  EXPECT_EQ(scaler.scale(), 65536.0f);
  EXPECT_EQ(scaler.state().growth_tracker, 1999);
  scaler.update(false);
  EXPECT_EQ(scaler.scale(), 131072.0f);  // 2^17 after the 2000th clean step
  EXPECT_EQ(scaler.state().growth_tracker, 0);
  for (int i = 0; i < 1500; ++i) scaler.update(false);
  scaler.update(true);  // overflow: halve and restart the count
  EXPECT_EQ(scaler.scale(), 65536.0f);
  EXPECT_EQ(scaler.state().growth_tracker, 0);
  scaler.update(true);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 16384.0f);
  for (int i = 0; i < 1999; ++i) scaler.update(false);
  EXPECT_EQ(scaler.scale(), 16384.0f);
  scaler.update(false);
  EXPECT_EQ(scaler.scale(), 32768.0f);
}

TEST(LossScaler, GrowthStopsBeforeFp32Overflow) {
  LossScalerOptions o;
  o.init_scale = 0x1.0p127f;
  o.growth_interval = 1;
  LossScaler scaler(o);
  scaler.update(false);
  EXPECT_EQ(scaler.scale(), 0x1.0p127f);  // 2^128 is inf in fp32: kept
  EXPECT_EQ(scaler.state().growth_tracker, 0);
}

TEST(LossScaler, UnscaleMatchesTorchAndFindsInf) {
  const SafetensorsFile f = golden();
  LossScalerOptions o;
  o.init_scale = std::stof(f.metadata().at("unscale_scale"));
  const LossScaler scaler(o);
  for (const std::string tag : {"finite", "nonfinite"}) {
    Tensor value = f.read_f32("unscale." + tag + ".in");
    Tensor grad = value;
    const std::vector<ParamRef> params = {{"p", &value, &grad, true}};
    const bool found_inf = scaler.unscale(params);
    EXPECT_EQ(found_inf, f.read_f32("unscale." + tag + ".found_inf").data[0] != 0.0f) << tag;
    const Tensor want = f.read_f32("unscale." + tag + ".out");
    for (int64_t i = 0; i < want.numel(); ++i) {
      if (std::isinf(want.data[i]))
        EXPECT_TRUE(std::isinf(grad.data[i])) << tag << " " << i;
      else
        EXPECT_EQ(grad.data[i], want.data[i]) << tag << " " << i;
    }
  }
}

TEST(LossScaler, UnscaleChecksEveryTensorAndScalesAllOfThem) {
  const LossScaler scaler;  // 2^16
  Tensor a({3}), ga({3}), b({2}), gb({2});
  ga.data = {65536.0f, NAN, -131072.0f};
  gb.data = {32768.0f, 1.0f};
  const std::vector<ParamRef> params = {{"a", &a, &ga, true}, {"b", &b, &gb, false}};
  EXPECT_TRUE(scaler.unscale(params));
  EXPECT_EQ(ga.data[0], 1.0f);
  EXPECT_TRUE(std::isnan(ga.data[1]));
  EXPECT_EQ(ga.data[2], -2.0f);
  EXPECT_EQ(gb.data[0], 0.5f);  // tensors after the non-finite one are unscaled too
  EXPECT_EQ(gb.data[1], 1.0f / 65536.0f);
  EXPECT_FALSE(scaler.unscale({{"b", &b, &gb, false}}));
}

TEST(LossScaler, StateRoundTripAndChecks) {
  LossScaler a;
  for (int i = 0; i < 7; ++i) a.update(false);
  a.update(true);
  a.update(false);
  LossScaler b;
  b.load_state(a.state());
  EXPECT_EQ(b.scale(), 32768.0f);
  EXPECT_EQ(b.state().growth_tracker, 1);
  EXPECT_CONTAINS(error_of([&] { b.load_state({0.0f, 0}); }), "scale must be finite and > 0");
  EXPECT_CONTAINS(error_of([&] { b.load_state({INFINITY, 0}); }), "scale must be finite and > 0");
  EXPECT_CONTAINS(error_of([&] { b.load_state({1.0f, -1}); }), "growth_tracker");
  LossScalerOptions bad;
  bad.growth_factor = 1.0;
  EXPECT_CONTAINS(error_of([&] { LossScaler s(bad); }), "growth_factor");
  bad = {};
  bad.backoff_factor = 1.0;
  EXPECT_CONTAINS(error_of([&] { LossScaler s(bad); }), "backoff_factor");
  bad = {};
  bad.growth_interval = 0;
  EXPECT_CONTAINS(error_of([&] { LossScaler s(bad); }), "growth_interval");
}

}  // namespace
}  // namespace tune
