// Per-stage work on one batch: the training loss and its backward (pt/sft: causal-LM cross-entropy; rm: pairwise
// loss on the value head), and evaluation/prediction over a list of examples.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "model/gemma.h"
#include "report/log_history.h"
#include "train/run_setup.h"

namespace tune {

// Collates the examples at `indices` of run.data (pairwise rows for rm, padded rows otherwise).
Batch make_batch(const TrainingRun& run, std::span<const int64_t> indices);

// Forward + backward of one training micro-batch: returns the micro-batch's loss as the stage defines it (mean CE
// over its valid targets; rm: the per_token or last_token pairwise loss) and accumulates grad_scale * d(loss) into
// the LoRA and value-head gradients.
double train_micro_batch(GemmaModel& model, const TrainingRun& run, const Batch& batch, float grad_scale,
                         uint64_t dropout_seed);

struct EvalResult {
  EvalRun run;                       // eval_loss, eval_accuracy (rm, or sft with compute_accuracy), timing
  std::vector<float> chosen_scores;  // rm: one per pair, in order
  std::vector<float> rejected_scores;
  std::vector<double> sample_loss;      // each example's batch mean loss (HF: loss.repeat(batch_size)), in order
  std::vector<double> sample_accuracy;  // sft with compute_accuracy: each example's token accuracy, in order
};

// Evaluates the examples at `indices` in batches of per_device_eval_batch_size, dropout off. The loss is the mean of
// per-batch losses weighted by batch size (HF evaluation_loop); rm accuracy = share of pairs whose chosen score is
// strictly higher; sft token accuracy (compute_accuracy) as LLaMA-Factory's ComputeAccuracy.
EvalResult evaluate(GemmaModel& model, const TrainingRun& run, std::span<const int64_t> indices);

}  // namespace tune
