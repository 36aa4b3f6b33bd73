// Evaluation sharded over data-parallel ranks as HF Trainer's evaluation_loop does it with accelerate: each rank
// evaluates its batches of the padded sequential order (train/shard.h), the per-example values are gathered in
// global order and the padding duplicates dropped (gather_for_metrics), so the metrics are those of one process.
#pragma once
#include <span>

#include "dist/communicator.h"
#include "train/stage_step.h"

namespace tune {

// world 1: evaluate(). world > 1: every rank returns the same result. Each real example carries its batch's mean
// loss (HF: loss.repeat(batch_size)), so eval_loss is the mean of those over the N examples; rm accuracy is the share
// of pairs with chosen > rejected; sft accuracy the mean of the examples' token accuracies; the rm scores come back
// in the order of `indices`. num_steps is the number of batches each rank ran.
// dpo's reward metrics (eval_rewards/*) are this rank's means over its batches (TRL keeps them per process).
EvalResult evaluate_sharded(GemmaModel& model, const TrainingRun& run, std::span<const int64_t> indices,
                            dist::Communicator& comm, const ReferenceModel& reference = {});

}  // namespace tune
