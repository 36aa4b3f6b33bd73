// Tests for HF 4.38 run-length math, the gradient-accumulation boundary rule across epochs, epoch progress, resume.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "config/plan.h"
#include "core/error.h"
#include "train/step_math.h"
#include "unit/expect_error.h"

namespace tune {
namespace {

using test::error_of;

Plan plan_with(int batch, int ga, double epochs, int max_steps = -1) {
  Plan p;
  p.per_device_train_batch_size = batch;
  p.gradient_accumulation_steps = ga;
  p.num_train_epochs = epochs;
  p.max_steps = max_steps;
  return p;
}

// One optimizer update as HF 4.38's loop runs it.
struct Update {
  int first_epoch, last_epoch;  // epochs of its first and last micro-batch
  int micro_batches;            // micro-batches accumulated into it
};

// HF 4.38 _inner_training_loop, counting only: for each epoch, for each micro-batch, backward, then an update when
// is_update_boundary says so; stop when global_step reaches max_steps.
struct SimulatedRun {
  std::vector<Update> updates;
  int64_t micro_batches_computed = 0;
  int64_t left_over = 0;  // accumulated micro-batches never stepped
};

SimulatedRun simulate(const TrainSchedule& s) {
  SimulatedRun run;
  int64_t total = 0, window = 0;
  int window_start = 0;
  for (int epoch = 0; epoch < s.num_epochs; ++epoch) {
    for (int64_t step = 0; step < s.batches_per_epoch; ++step) {
      ++total;
      ++run.micro_batches_computed;
      if (window++ == 0) window_start = epoch;
      if (!s.is_update_boundary(total, step)) continue;
      run.updates.push_back({window_start, epoch, static_cast<int>(window)});
      window = 0;
      if (static_cast<int64_t>(run.updates.size()) >= s.max_steps) return run;
    }
  }
  run.left_over = window;
  return run;
}

// datasets.train_test_split with a float test_size: n_test = ceil(test_size · n).
int64_t hf_test_count(int64_t n, double val_size) { return static_cast<int64_t>(std::ceil(val_size * n)); }

TEST(StepMath, SeedRunNumbers) {
  // The seed card: 439 eval pairs and 260 steps with val_size 0.05, 4 ranks, batch 1, GA 8 hold for N = 8761..8780.
  for (int64_t n = 8761; n <= 8780; ++n) {
    EXPECT_EQ(hf_test_count(n, 0.05), 439) << n;
    const TrainSchedule s = make_train_schedule(plan_with(1, 8, 1.0), n - 439, 4);
    EXPECT_EQ(s.max_steps, 260) << n;
  }
  EXPECT_EQ(hf_test_count(8760, 0.05), 438);
  EXPECT_EQ(hf_test_count(8781, 0.05), 440);

  const TrainSchedule s = make_train_schedule(plan_with(1, 8, 1.0), 8770 - 439, 4);
  EXPECT_EQ(s.num_examples, 8331);
  EXPECT_EQ(s.examples_per_rank, 2083);  // ceil(8331 / 4)
  EXPECT_EQ(s.batches_per_epoch, 2083);
  EXPECT_EQ(s.updates_per_epoch, 260);  // floor(2083 / 8)
  EXPECT_EQ(s.max_steps, 260);
  EXPECT_EQ(s.num_epochs, 1);
  EXPECT_EQ(s.total_train_batch_size, 32);

  // The run stops at step 260 after micro-batch 2080: the 3-batch tail is never computed.
  const SimulatedRun run = simulate(s);
  ASSERT_EQ(run.updates.size(), 260u);
  for (const Update& u : run.updates) EXPECT_EQ(u.micro_batches, 8);
  EXPECT_EQ(run.micro_batches_computed, 2080);
  EXPECT_DOUBLE_EQ(s.epoch_progress(0, 2079), 2080.0 / 2083.0);  // state.epoch at the last step (logged 1.0)
  EXPECT_DOUBLE_EQ(s.epoch_progress(0, 7), 8.0 / 2083.0);
}

TEST(StepMath, BatchSizeAndRanksRoundUp) {
  // N = 10 on 4 ranks: 3 examples per rank (accelerate repeats 2); batch 2 → 2 batches per rank.
  const TrainSchedule s = make_train_schedule(plan_with(2, 1, 2.0), 10, 4);
  EXPECT_EQ(s.examples_per_rank, 3);
  EXPECT_EQ(s.batches_per_epoch, 2);
  EXPECT_EQ(s.updates_per_epoch, 2);
  EXPECT_EQ(s.max_steps, 4);
  EXPECT_EQ(s.num_epochs, 2);
  EXPECT_EQ(s.total_train_batch_size, 8);
  // ceil(N / (world · batch)) either way round.
  for (int64_t n = 1; n <= 40; ++n)
    EXPECT_EQ(make_train_schedule(plan_with(3, 1, 1.0), n, 4).batches_per_epoch, (n + 11) / 12) << n;
}

TEST(StepMath, FewerBatchesThanGaStillGiveOneUpdatePerEpoch) {
  const TrainSchedule s = make_train_schedule(plan_with(1, 8, 3.0), 3, 1);
  EXPECT_EQ(s.updates_per_epoch, 1);  // max(floor(3 / 8), 1)
  EXPECT_EQ(s.max_steps, 3);
  const SimulatedRun run = simulate(s);
  ASSERT_EQ(run.updates.size(), 3u);
  EXPECT_EQ(run.updates[0].micro_batches, 3);  // the short epoch's last batch forces the update
  EXPECT_EQ(run.updates[1].micro_batches, 3);
  EXPECT_EQ(run.updates[1].first_epoch, 1);
  EXPECT_EQ(run.updates[2].micro_batches, 2);  // total 8 hits the running counter mid-epoch → max_steps reached
  EXPECT_EQ(run.updates[2].first_epoch, 2);
  EXPECT_EQ(run.micro_batches_computed, 8);
}

TEST(StepMath, ShortEpochsMixTheRunningCounterAndTheForcedEpochEnd) {
  // 3 batches per epoch, GA 4: the epoch end forces an update, and the running counter adds one at total 4.
  const TrainSchedule s = make_train_schedule(plan_with(1, 4, 3.0), 3, 1);
  ASSERT_EQ(s.max_steps, 3);
  const SimulatedRun run = simulate(s);
  ASSERT_EQ(run.updates.size(), 3u);
  EXPECT_EQ(run.updates[0].micro_batches, 3);  // epoch 0 end (total 3)
  EXPECT_EQ(run.updates[1].micro_batches, 1);  // total 4: first micro-batch of epoch 1
  EXPECT_EQ(run.updates[2].micro_batches, 2);  // epoch 1 end (total 6) → max_steps reached
  EXPECT_EQ(run.micro_batches_computed, 6);
}

TEST(StepMath, EpochTailIsCarriedIntoTheNextEpochsFirstUpdate) {
  // 10 batches per epoch, GA 4, 3 epochs: updates_per_epoch 2, max_steps 6. Epoch 0 steps after 4 and 8; its 2-batch
  // tail joins the first 2 batches of epoch 1 (total 12); epoch 1 then steps at totals 16 and 20; epoch 2 at 24.
  const TrainSchedule s = make_train_schedule(plan_with(1, 4, 3.0), 10, 1);
  EXPECT_EQ(s.updates_per_epoch, 2);
  EXPECT_EQ(s.max_steps, 6);
  EXPECT_EQ(s.num_epochs, 3);
  EXPECT_FALSE(s.is_update_boundary(10, 9));  // end of epoch 0 with a 2-batch tail: no update
  EXPECT_TRUE(s.is_update_boundary(12, 1));
  const SimulatedRun run = simulate(s);
  ASSERT_EQ(run.updates.size(), 6u);
  for (const Update& u : run.updates) EXPECT_EQ(u.micro_batches, 4);
  EXPECT_EQ(run.updates[1].last_epoch, 0);
  EXPECT_EQ(run.updates[2].first_epoch, 0);  // the carried tail
  EXPECT_EQ(run.updates[2].last_epoch, 1);
  EXPECT_EQ(run.updates[4].last_epoch, 1);  // epoch 1 has 3 updates
  EXPECT_EQ(run.updates[5].first_epoch, 2);
  EXPECT_EQ(run.micro_batches_computed, 24);
}

TEST(StepMath, MaxStepsOverridesEpochs) {
  const TrainSchedule s = make_train_schedule(plan_with(1, 4, 3.0, 5), 10, 1);
  EXPECT_EQ(s.max_steps, 5);
  EXPECT_EQ(s.num_epochs, 3);  // ceil(5 / 2)
  EXPECT_EQ(simulate(s).updates.size(), 5u);
  const TrainSchedule exact = make_train_schedule(plan_with(1, 4, 1.0, 4), 10, 1);
  EXPECT_EQ(exact.num_epochs, 2);
  const TrainSchedule longer = make_train_schedule(plan_with(1, 8, 1.0, 1000), 8331, 4);
  EXPECT_EQ(longer.num_epochs, 4);  // ceil(1000 / 260)
  EXPECT_EQ(simulate(longer).updates.size(), 1000u);
}

TEST(StepMath, FractionalEpochs) {
  const TrainSchedule s = make_train_schedule(plan_with(1, 8, 1.5), 8331, 4);
  EXPECT_EQ(s.max_steps, 390);  // ceil(1.5 · 260)
  EXPECT_EQ(s.num_epochs, 2);
  EXPECT_EQ(simulate(s).updates.size(), 390u);
  EXPECT_EQ(make_train_schedule(plan_with(1, 8, 0.1), 8331, 4).max_steps, 26);
}

TEST(StepMath, ResumePoint) {
  const TrainSchedule s = make_train_schedule(plan_with(1, 8, 3.0), 8331, 4);
  ResumePoint r = resume_point(s, 100);
  EXPECT_EQ(r.epoch, 0);
  EXPECT_EQ(r.micro_batches_to_skip, 800);
  r = resume_point(s, 260);
  EXPECT_EQ(r.epoch, 1);
  EXPECT_EQ(r.micro_batches_to_skip, 0);
  r = resume_point(s, 525);
  EXPECT_EQ(r.epoch, 2);
  EXPECT_EQ(r.micro_batches_to_skip, 40);
  EXPECT_DOUBLE_EQ(s.epoch_progress(2, 0, 40), 2.0 + 41.0 / 2083.0);
}

TEST(StepMath, Errors) {
  EXPECT_CONTAINS(error_of([] { make_train_schedule(plan_with(1, 8, 1.0), 0, 4); }), "training set is empty");
  EXPECT_CONTAINS(error_of([] { make_train_schedule(plan_with(1, 0, 1.0), 10, 4); }), "gradient_accumulation_steps");
  EXPECT_CONTAINS(error_of([] { make_train_schedule(plan_with(0, 1, 1.0), 10, 4); }), "per_device_train_batch_size");
  EXPECT_CONTAINS(error_of([] { make_train_schedule(plan_with(1, 1, 0.0), 10, 4); }), "num_train_epochs");
  EXPECT_CONTAINS(error_of([] { make_train_schedule(plan_with(1, 1, 1.0), 10, 0); }), "world size");
}

}  // namespace
}  // namespace tune
