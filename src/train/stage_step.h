// Per-stage work on one batch: the training loss and its backward (pt/sft: causal-LM cross-entropy; rm: pairwise
// loss on the value head), and evaluation/prediction over a list of examples.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "model/gemma.h"
#include "report/log_history.h"
#include "train/metric_window.h"
#include "train/run_setup.h"
#include "train/stages/dpo_step.h"

namespace tune {

// What stage dpo adds to a step: the reference model (model null for orpo / simpo) and, in training, the window its
// per-micro-batch metrics go to (TRL's store_metrics).
struct PreferenceContext {
  ReferenceModel reference;
  MetricWindow* train_metrics = nullptr;
};

// Collates the examples at `indices` of run.data (pairwise rows for rm, labelled pairwise rows for dpo, padded rows
// otherwise).
Batch make_batch(const TrainingRun& run, std::span<const int64_t> indices);

// Forward + backward of one training micro-batch: returns the micro-batch's loss as the stage defines it (mean CE
// over its valid targets; rm: the per_token or last_token pairwise loss; dpo: the mean preference loss over its pairs)
// and accumulates grad_scale * d(loss) into the LoRA and value-head gradients.
double train_micro_batch(GemmaModel& model, const TrainingRun& run, const Batch& batch, float grad_scale,
                         uint64_t dropout_seed, const PreferenceContext& pref = {});

struct EvalResult {
  EvalRun run;                       // eval_loss, eval_accuracy (rm, or sft with compute_accuracy), timing
  std::vector<float> chosen_scores;  // rm: one per pair, in order
  std::vector<float> rejected_scores;
  std::vector<double> sample_loss;      // each example's batch mean loss (HF: loss.repeat(batch_size)), in order
  std::vector<double> sample_accuracy;  // sft with compute_accuracy: each example's token accuracy, in order
};

// Evaluates the examples at `indices` in batches of per_device_eval_batch_size, dropout off. The loss is the mean of
// per-batch losses weighted by batch size (HF evaluation_loop); rm accuracy = share of pairs whose chosen score is
// strictly higher; sft token accuracy (compute_accuracy) as LLaMA-Factory's ComputeAccuracy; dpo: TRL's eval_rewards/*
// etc. in run.metrics, each the mean of the per-batch means (LF's stored eval metrics).
EvalResult evaluate(GemmaModel& model, const TrainingRun& run, std::span<const int64_t> indices,
                    const ReferenceModel& reference = {});

}  // namespace tune
