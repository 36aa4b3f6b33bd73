#include "train/stage_step.h"

#include <chrono>
#include <cmath>
#include <iostream>

#include "core/error.h"
#include "report/eval_progress.h"
#include "train/collate.h"
#include "train/rm_loss.h"

namespace tune {

namespace {

RmLossResult rm_loss(const TrainingRun& run, const Tensor& values, const Batch& batch, Tensor* dvalues) {
  return run.plan.rm_loss == "last_token" ? rm_last_token_loss(values, batch, dvalues)
                                          : rm_per_token_loss(values, batch, run.pad_id, dvalues);
}

// LLaMA-Factory's ComputeAccuracy: per example, the share of valid shifted targets the argmax predicts (appended to
// `per_example`); returns their sum.
double token_accuracy_sum(const Tensor& logits, const Batch& batch, int vocab, std::vector<double>& per_example) {
  double sum = 0.0;
  for (int b = 0; b < batch.B; ++b) {
    int64_t valid = 0, correct = 0;
    for (int t = 0; t + 1 < batch.T; ++t) {
      const int32_t target = batch.labels[static_cast<size_t>(b) * batch.T + t + 1];
      if (target == kIgnoreIndex) continue;
      const float* row = logits.ptr() + (static_cast<int64_t>(b) * batch.T + t) * vocab;
      int best = 0;
      for (int v = 1; v < vocab; ++v)
        if (row[v] > row[best]) best = v;
      ++valid;
      correct += best == target;
    }
    const double accuracy = valid ? static_cast<double>(correct) / valid : 0.0;
    per_example.push_back(accuracy);
    if (valid) sum += accuracy;
  }
  return sum;
}

}  // namespace

Batch make_batch(const TrainingRun& run, std::span<const int64_t> indices) {
  if (run.stage == Stage::Rm || run.stage == Stage::Dpo) {
    std::vector<const PairwiseExample*> ex;
    for (int64_t i : indices) ex.push_back(&run.data.pairwise[static_cast<size_t>(i)]);
    return run.stage == Stage::Rm ? collate_pairwise(ex, run.pad_id) : collate_preference(ex, run.pad_id);
  }
  std::vector<const SupervisedExample*> ex;
  for (int64_t i : indices) ex.push_back(&run.data.supervised[static_cast<size_t>(i)]);
  return collate_supervised(ex, run.pad_id);
}

double train_micro_batch(GemmaModel& model, const TrainingRun& run, const Batch& batch, float grad_scale,
                         uint64_t dropout_seed, const PreferenceContext& pref) {
  if (run.stage == Stage::Dpo) {
    const PreferenceBatch r =
        preference_step(model, run.weights.head(), pref.reference, batch, preference_options(run.plan), grad_scale);
    if (pref.train_metrics) pref.train_metrics->add(r.metrics);
    return r.loss;
  }
  const bool rm = run.stage == Stage::Rm;
  model.forward(batch, ForwardOptions{.training = true,
                                      .value_head_dropout = rm ? static_cast<float>(run.plan.value_head_dropout) : 0.0f,
                                      .dropout_seed = dropout_seed});
  if (rm) {
    Tensor dvalues;
    const double loss = rm_loss(run, model.values(), batch, &dvalues).loss;
    for (float& g : dvalues.data) g *= grad_scale;
    model.values_backward(dvalues);
    model.backward();
    return loss;
  }
  const LmLossResult counted = model.lm_head_loss(0.0f);  // counts the valid targets first
  TUNE_CHECK(counted.n_valid > 0, "a training batch has no token with a label; check cutoff_len and the data");
  const LmLossResult r = model.lm_head_loss(grad_scale / static_cast<float>(counted.n_valid));
  model.backward();
  return r.mean();
}

EvalResult evaluate(GemmaModel& model, const TrainingRun& run, std::span<const int64_t> indices,
                    const ReferenceModel& reference) {
  const auto t0 = std::chrono::steady_clock::now();
  const size_t batch_size = static_cast<size_t>(run.plan.per_device_eval_batch_size);
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  EvalProgress progress(static_cast<int64_t>((indices.size() + batch_size - 1) / batch_size), std::cerr,
                        EvalProgress::stderr_is_terminal());
  EvalResult out;
  double loss_sum = 0.0, accuracy_sum = 0.0;
  int64_t correct_pairs = 0, batches = 0;
  MetricWindow pref_metrics;
  for (size_t start = 0; start < indices.size(); start += batch_size) {
    if (batches > 0) progress.update(batches, elapsed());
    const auto part = indices.subspan(start, std::min(batch_size, indices.size() - start));
    const Batch batch = make_batch(run, part);
    ++batches;
    if (run.stage == Stage::Dpo) {
      const PreferenceBatch r =
          preference_step(model, run.weights.head(), reference, batch, preference_options(run.plan), 0.0f);
      loss_sum += r.loss * static_cast<double>(part.size());
      out.sample_loss.insert(out.sample_loss.end(), part.size(), r.loss);
      pref_metrics.add(r.metrics);
      continue;
    }
    model.forward(batch, ForwardOptions{});
    if (run.stage == Stage::Rm) {
      const RmLossResult r = rm_loss(run, model.values(), batch, nullptr);
      loss_sum += r.loss * static_cast<double>(part.size());
      out.sample_loss.insert(out.sample_loss.end(), part.size(), r.loss);
      for (size_t i = 0; i < r.chosen_scores.size(); ++i) {
        correct_pairs += r.chosen_scores[i] > r.rejected_scores[i];
        out.chosen_scores.push_back(r.chosen_scores[i]);
        out.rejected_scores.push_back(r.rejected_scores[i]);
      }
      continue;
    }
    Tensor logits;
    const LmLossResult r = model.lm_head_loss(0.0f, run.plan.compute_accuracy ? &logits : nullptr);
    loss_sum += r.mean() * static_cast<double>(part.size());
    out.sample_loss.insert(out.sample_loss.end(), part.size(), r.mean());
    if (run.plan.compute_accuracy)
      accuracy_sum += token_accuracy_sum(logits, batch, run.cfg.vocab_size, out.sample_accuracy);
  }
  progress.finish(batches, elapsed());
  const double n = static_cast<double>(indices.size());
  out.run.loss = loss_sum / n;
  if (run.stage == Stage::Rm) out.run.accuracy = static_cast<double>(correct_pairs) / n;
  if (run.stage != Stage::Rm && run.stage != Stage::Dpo && run.plan.compute_accuracy)
    out.run.accuracy = accuracy_sum / n;
  if (!pref_metrics.empty()) out.run.metrics = pref_metrics.take_means("eval_");
  out.run.num_samples = static_cast<int64_t>(indices.size());
  out.run.num_steps = batches;
  out.run.runtime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace tune
