// How many optimizer updates a run has and where they fall, by HF Trainer 4.38's rules (_inner_training_loop).
#pragma once
#include <cstdint>

#include "config/plan.h"

namespace tune {

struct TrainSchedule {
  int64_t num_examples = 0;         // N: training examples (pairs for rm) after the val split
  int world_size = 1;               // data-parallel ranks
  int per_device_batch = 1;         // per_device_train_batch_size
  int grad_accum = 1;               // gradient_accumulation_steps (GA)
  int64_t examples_per_rank = 0;    // ceil(N / world): accelerate pads the last round by repeating examples
  int64_t batches_per_epoch = 0;    // len(train_dataloader) per rank = ceil(examples_per_rank / per_device_batch)
  int64_t updates_per_epoch = 0;    // max(floor(batches_per_epoch / GA), 1)
  int64_t max_steps = 0;            // plan.max_steps if > 0, else ceil(num_train_epochs · updates_per_epoch)
  int num_epochs = 0;               // epochs the loop iterates: ceil(num_train_epochs), or with max_steps given
                                    // max_steps / updates_per_epoch rounded up
  int64_t total_train_batch_size = 0;  // per_device_batch · GA · world (what HF prints)

  // HF 4.38's update boundary, called after the backward of each micro-batch. total_micro_batches counts micro-
  // batches over the whole run (it is not reset per epoch; HF: total_batched_samples, 1-based) and step_in_epoch is
  // HF's `step`: the micro-batch's 0-based index in its epoch (after a resume, counted from the first micro-batch
  // not skipped). True when total_micro_batches % GA == 0, or when this is the last
  // micro-batch of an epoch that has at most GA micro-batches. Consequence: when batches_per_epoch % GA != 0 (and
  // batches_per_epoch > GA) the epoch's tail of < GA micro-batches is not stepped at the epoch end; its gradients
  // stay accumulated and join the first micro-batches of the next epoch in one update of GA micro-batches (each
  // micro-batch loss still divided by GA). Training stops as soon as global_step reaches max_steps, so a
  // single-epoch run never computes its tail at all, and gradients left over at the end are discarded.
  bool is_update_boundary(int64_t total_micro_batches, int64_t step_in_epoch) const;

  // HF's fractional state.epoch after a micro-batch: epoch + (step_in_epoch + 1 + steps_skipped) / batches_per_epoch
  // (4.38 logs it rounded to 2 decimals).
  double epoch_progress(int epoch, int64_t step_in_epoch, int64_t steps_skipped = 0) const;
};

// Builds the schedule from the plan (per_device_train_batch_size, gradient_accumulation_steps, num_train_epochs,
// max_steps), the training-set size and the number of ranks. N < 1, world_size < 1, a batch size or GA < 1, or
// num_train_epochs <= 0 without max_steps is a tune::Error that names the key to change.
TrainSchedule make_train_schedule(const Plan& plan, int64_t num_examples, int world_size);

// Where HF 4.38 resumes from a checkpoint at global_step: epochs_trained = global_step / updates_per_epoch and
// micro-batches to skip in that epoch = (global_step % updates_per_epoch) · GA. The micro-batch counter restarts at 0
// after a resume (HF does not save total_batched_samples).
struct ResumePoint {
  int epoch = 0;
  int64_t micro_batches_to_skip = 0;
};
ResumePoint resume_point(const TrainSchedule& schedule, int64_t global_step);

}  // namespace tune
