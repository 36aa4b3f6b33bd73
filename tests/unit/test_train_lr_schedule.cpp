// Tests for the HF learning-rate schedules at known points, the warmup rule and the scheduler-name check.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>

#include "config/plan.h"
#include "core/error.h"
#include "train/lr_schedule.h"
#include "unit/expect_error.h"

namespace tune {
namespace {

using test::error_of;

TEST(LrSchedule, CosineWithoutWarmupAsTheSeedRun) {
  // lr(s) = 1e-6 · 0.5 · (1 + cos(π s / 260)); update k uses s = k − 1.
  const LrSchedule s(LrSchedulerType::Cosine, 1e-6, 0, 260);
  EXPECT_EQ(s.lr_at(0), 1e-6);                // first update at the full lr
  EXPECT_EQ(s.lr_at(130), 0.5e-6);            // T/2: exactly half
  EXPECT_EQ(s.lr_at(260), 0.0);               // T: zero
  EXPECT_EQ(s.lr_at(65), 1e-6 * (0.5 * (1.0 + std::cos(std::numbers::pi * 0.25))));
  EXPECT_NEAR(s.lambda_at(65), 0.5 + 0.5 * std::sqrt(0.5), 1e-15);
  EXPECT_GT(s.lr_at(259), 0.0);
  EXPECT_LT(s.lr_at(259), 1e-9);
  // HF does not clamp past T: the cosine rises again (max(0, ·) never bites for num_cycles 0.5).
  EXPECT_GT(s.lambda_at(300), 0.0);
  EXPECT_EQ(s.lambda_at(300), 0.5 * (1.0 + std::cos(std::numbers::pi * (300.0 / 260.0))));
}

TEST(LrSchedule, CosineWithWarmup) {
  const LrSchedule s(LrSchedulerType::Cosine, 2e-4, 10, 110);
  EXPECT_EQ(s.lr_at(0), 0.0);  // first update with warmup: lr 0
  EXPECT_EQ(s.lambda_at(1), 0.1);
  EXPECT_EQ(s.lambda_at(5), 0.5);
  EXPECT_EQ(s.lambda_at(10), 1.0);
  EXPECT_EQ(s.lambda_at(60), 0.5);  // half way through the decay
  EXPECT_EQ(s.lambda_at(110), 0.0);
}

TEST(LrSchedule, LinearWithWarmupAndClampAfterTheEnd) {
  const LrSchedule s(LrSchedulerType::Linear, 1e-3, 10, 110);
  EXPECT_EQ(s.lambda_at(0), 0.0);
  EXPECT_EQ(s.lambda_at(5), 0.5);
  EXPECT_EQ(s.lambda_at(10), 1.0);
  EXPECT_EQ(s.lambda_at(60), 0.5);
  EXPECT_EQ(s.lambda_at(109), 0.01);
  EXPECT_EQ(s.lambda_at(110), 0.0);
  EXPECT_EQ(s.lambda_at(150), 0.0);
  const LrSchedule no_warmup(LrSchedulerType::Linear, 2e-3, 0, 10);
  EXPECT_EQ(no_warmup.lr_at(0), 2e-3);
  EXPECT_EQ(no_warmup.lr_at(1), 2e-3 * 0.9);
}

TEST(LrSchedule, ConstantAndConstantWithWarmup) {
  const LrSchedule c(LrSchedulerType::Constant, 5e-5, 7, 100);  // constant ignores warmup (HF get_constant_schedule)
  for (int64_t s : {0, 1, 7, 100, 1000}) EXPECT_EQ(c.lr_at(s), 5e-5) << s;
  const LrSchedule w(LrSchedulerType::ConstantWithWarmup, 1.0, 4, 100);
  const double want[] = {0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0};
  for (int64_t s = 0; s < 7; ++s) EXPECT_EQ(w.lambda_at(s), want[s]) << s;
  EXPECT_EQ(w.lambda_at(100000), 1.0);
}

TEST(LrSchedule, WarmupStepsWinOverRatioElseCeilOfRatio) {
  EXPECT_EQ(resolve_warmup_steps(5, 0.3, 100), 5);
  EXPECT_EQ(resolve_warmup_steps(0, 0.1, 260), 26);
  EXPECT_EQ(resolve_warmup_steps(0, 0.1, 10), 1);
  EXPECT_EQ(resolve_warmup_steps(0, 0.03, 10), 1);  // ceil(0.3)
  EXPECT_EQ(resolve_warmup_steps(0, 0.0, 10), 0);
  EXPECT_EQ(resolve_warmup_steps(0, 1.0, 10), 10);
  EXPECT_CONTAINS(error_of([] { resolve_warmup_steps(0, -0.1, 10); }), "warmup_ratio");
  EXPECT_CONTAINS(error_of([] { resolve_warmup_steps(-1, 0.0, 10); }), "warmup_steps");
}

TEST(LrSchedule, FromPlan) {
  Plan plan;
  plan.lr_scheduler_type = "cosine";
  plan.learning_rate = 1e-4;
  plan.warmup_ratio = 0.1;
  const LrSchedule s = make_lr_schedule(plan, 50);
  EXPECT_EQ(s.type(), LrSchedulerType::Cosine);
  EXPECT_EQ(s.warmup_steps(), 5);
  EXPECT_EQ(s.total_steps(), 50);
  EXPECT_EQ(s.lr_at(0), 0.0);
  EXPECT_EQ(s.lr_at(5), 1e-4);
  plan.warmup_steps = 3;  // > 0 wins
  EXPECT_EQ(make_lr_schedule(plan, 50).warmup_steps(), 3);
}

TEST(LrSchedule, Names) {
  EXPECT_EQ(lr_scheduler_type_from_name("linear"), LrSchedulerType::Linear);
  EXPECT_EQ(lr_scheduler_type_from_name("cosine"), LrSchedulerType::Cosine);
  EXPECT_EQ(lr_scheduler_type_from_name("constant"), LrSchedulerType::Constant);
  EXPECT_EQ(lr_scheduler_type_from_name("constant_with_warmup"), LrSchedulerType::ConstantWithWarmup);
  const std::string e = error_of([] { lr_scheduler_type_from_name("cosine_with_restarts"); });
  EXPECT_CONTAINS(e, "lr_scheduler_type 'cosine_with_restarts'");
  EXPECT_CONTAINS(e, "constant_with_warmup");
  EXPECT_CONTAINS(error_of([] { LrSchedule(LrSchedulerType::Linear, 1e-3, 0, 0); }), "max_steps");
}

}  // namespace
}  // namespace tune
