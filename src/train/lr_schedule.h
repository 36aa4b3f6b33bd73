// Learning-rate schedules as HF transformers' get_*_schedule_with_warmup lambdas compute them (Python doubles).
#pragma once
#include <cstdint>
#include <string>

#include "config/plan.h"

namespace tune {

enum class LrSchedulerType { Linear, Cosine, Constant, ConstantWithWarmup };

// "linear" | "cosine" | "constant" | "constant_with_warmup" (the lr_scheduler_type values); others are a tune::Error.
LrSchedulerType lr_scheduler_type_from_name(const std::string& name);

// HF 4.38 TrainingArguments.get_warmup_steps: warmup_steps when > 0, else ceil(max_steps · warmup_ratio).
int64_t resolve_warmup_steps(int warmup_steps, double warmup_ratio, int64_t max_steps);

class LrSchedule {
 public:
  // total_steps = the run's max_steps (T); warmup_steps = W (already resolved).
  LrSchedule(LrSchedulerType type, double base_lr, int64_t warmup_steps, int64_t total_steps);

  // HF's lr_lambda(s) for s = number of scheduler.step() calls so far:
  //   s < W (all but constant): s / max(1, W)
  //   linear:   max(0, (T − s) / max(1, T − W))
  //   cosine:   p = (s − W) / max(1, T − W);  max(0, 0.5 · (1 + cos(π · 0.5 · 2 · p)))   (num_cycles 0.5)
  //   constant / constant_with_warmup: 1
  double lambda_at(int64_t s) const;
  // base_lr · lambda_at(s) (LambdaLR). The trainer uses lr_at(k − 1) for optimizer update k (1-based), so with
  // W > 0 the first update has lr 0. HF 4.38 logs learning_rate after scheduler.step(), i.e. lr_at(k) after update
  // k, and does not step the scheduler when an fp16 update was skipped (so s can lag global_step).
  double lr_at(int64_t s) const { return base_lr_ * lambda_at(s); }

  LrSchedulerType type() const { return type_; }
  double base_lr() const { return base_lr_; }
  int64_t warmup_steps() const { return warmup_steps_; }
  int64_t total_steps() const { return total_steps_; }

 private:
  LrSchedulerType type_;
  double base_lr_;
  int64_t warmup_steps_;
  int64_t total_steps_;
};

// The schedule HF Trainer builds for this plan and run length: lr_scheduler_type, learning_rate, resolved warmup.
LrSchedule make_lr_schedule(const Plan& plan, int64_t max_steps);

}  // namespace tune
