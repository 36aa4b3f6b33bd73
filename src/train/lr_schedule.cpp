// HF transformers learning-rate lambdas (optimization.py) and the 4.38 warmup-steps rule.
#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace tune {

LrSchedulerType lr_scheduler_type_from_name(const std::string& name) {
  if (name == "linear") return LrSchedulerType::Linear;
  if (name == "cosine") return LrSchedulerType::Cosine;
  if (name == "constant") return LrSchedulerType::Constant;
  if (name == "constant_with_warmup") return LrSchedulerType::ConstantWithWarmup;
  fail("lr_scheduler_type '", name, "' is not supported; use linear, cosine, constant or constant_with_warmup");
}

int64_t resolve_warmup_steps(int warmup_steps, double warmup_ratio, int64_t max_steps) {
  TUNE_CHECK(warmup_steps >= 0, "warmup_steps must be >= 0, got ", warmup_steps);
  TUNE_CHECK(warmup_ratio >= 0.0 && warmup_ratio <= 1.0, "warmup_ratio must be in [0, 1], got ", warmup_ratio);
  if (warmup_steps > 0) return warmup_steps;
  return static_cast<int64_t>(std::ceil(static_cast<double>(max_steps) * warmup_ratio));
}

LrSchedule::LrSchedule(LrSchedulerType type, double base_lr, int64_t warmup_steps, int64_t total_steps)
    : type_(type), base_lr_(base_lr), warmup_steps_(warmup_steps), total_steps_(total_steps) {
  TUNE_CHECK(base_lr >= 0.0, "learning_rate must be >= 0, got ", base_lr);
  TUNE_CHECK(warmup_steps >= 0, "warmup steps must be >= 0, got ", warmup_steps);
  TUNE_CHECK(total_steps > 0, "the schedule needs max_steps > 0, got ", total_steps);
}

double LrSchedule::lambda_at(int64_t s) const {
  const double step = static_cast<double>(s);
  const double warmup = static_cast<double>(warmup_steps_);
  switch (type_) {
    case LrSchedulerType::Constant: return 1.0;
    case LrSchedulerType::ConstantWithWarmup:
      return s < warmup_steps_ ? step / std::max(1.0, warmup) : 1.0;
    case LrSchedulerType::Linear: {
      if (s < warmup_steps_) return step / static_cast<double>(std::max<int64_t>(1, warmup_steps_));
      const double left = static_cast<double>(total_steps_ - s);
      return std::max(0.0, left / static_cast<double>(std::max<int64_t>(1, total_steps_ - warmup_steps_)));
    }
    case LrSchedulerType::Cosine: {
      if (s < warmup_steps_) return step / static_cast<double>(std::max<int64_t>(1, warmup_steps_));
      const double progress = static_cast<double>(s - warmup_steps_) /
                              static_cast<double>(std::max<int64_t>(1, total_steps_ - warmup_steps_));
      const double num_cycles = 0.5;
      return std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * num_cycles * 2.0 * progress)));
    }
  }
  fail("internal: unknown LrSchedulerType");
}

LrSchedule make_lr_schedule(const Plan& plan, int64_t max_steps) {
  return LrSchedule(lr_scheduler_type_from_name(plan.lr_scheduler_type), plan.learning_rate,
                    resolve_warmup_steps(plan.warmup_steps, plan.warmup_ratio, max_steps), max_steps);
}

}  // namespace tune
