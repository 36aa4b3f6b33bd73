// HF Trainer 4.38 run-length arithmetic, accumulation boundaries, epoch progress and resume position.
#include "train/step_math.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace tune {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

bool TrainSchedule::is_update_boundary(int64_t total_micro_batches, int64_t step_in_epoch) const {
  const bool short_epoch_end = batches_per_epoch <= grad_accum && step_in_epoch + 1 == batches_per_epoch;
  return total_micro_batches % grad_accum == 0 || short_epoch_end;
}

double TrainSchedule::epoch_progress(int epoch, int64_t step_in_epoch, int64_t steps_skipped) const {
  return static_cast<double>(epoch) +
         static_cast<double>(step_in_epoch + 1 + steps_skipped) / static_cast<double>(batches_per_epoch);
}

TrainSchedule make_train_schedule(const Plan& plan, int64_t num_examples, int world_size) {
  TUNE_CHECK(num_examples >= 1, "the training set is empty (0 examples after preprocessing and the val_size split); "
             "check dataset, cutoff_len and val_size");
  TUNE_CHECK(world_size >= 1, "world size must be >= 1, got ", world_size);
  TUNE_CHECK(plan.per_device_train_batch_size >= 1, "per_device_train_batch_size must be >= 1, got ",
             plan.per_device_train_batch_size);
  TUNE_CHECK(plan.gradient_accumulation_steps >= 1, "gradient_accumulation_steps must be >= 1, got ",
             plan.gradient_accumulation_steps);
  TrainSchedule s;
  s.num_examples = num_examples;
  s.world_size = world_size;
  s.per_device_batch = plan.per_device_train_batch_size;
  s.grad_accum = plan.gradient_accumulation_steps;
  s.examples_per_rank = ceil_div(num_examples, world_size);
  s.batches_per_epoch = ceil_div(s.examples_per_rank, s.per_device_batch);
  s.updates_per_epoch = std::max<int64_t>(s.batches_per_epoch / s.grad_accum, 1);
  s.total_train_batch_size = static_cast<int64_t>(s.per_device_batch) * s.grad_accum * world_size;
  if (plan.max_steps > 0) {
    s.max_steps = plan.max_steps;
    s.num_epochs = static_cast<int>(ceil_div(s.max_steps, s.updates_per_epoch));
  } else {
    TUNE_CHECK(plan.num_train_epochs > 0.0, "num_train_epochs must be > 0 when max_steps is not set, got ",
               plan.num_train_epochs);
    s.max_steps = static_cast<int64_t>(std::ceil(plan.num_train_epochs * static_cast<double>(s.updates_per_epoch)));
    s.num_epochs = static_cast<int>(std::ceil(plan.num_train_epochs));
  }
  return s;
}

ResumePoint resume_point(const TrainSchedule& schedule, int64_t global_step) {
  TUNE_CHECK(global_step >= 0, "checkpoint global_step must be >= 0, got ", global_step);
  ResumePoint r;
  r.epoch = static_cast<int>(global_step / schedule.updates_per_epoch);
  r.micro_batches_to_skip = (global_step % schedule.updates_per_epoch) * schedule.grad_accum;
  return r;
}

}  // namespace tune
