// Sharded evaluation with exact gathering (see dist_eval.h).
#include "train/dist_eval.h"

#include <chrono>
#include <vector>

#include "core/error.h"
#include "train/shard.h"

namespace tune {

EvalResult evaluate_sharded(GemmaModel& model, const TrainingRun& run, std::span<const int64_t> indices,
                            dist::Communicator& comm, const ReferenceModel& reference) {
  if (comm.world_size() == 1) return evaluate(model, run, indices, reference);
  TUNE_CHECK(!indices.empty(), "nothing to evaluate: the evaluation set is empty");
  const auto t0 = std::chrono::steady_clock::now();
  const int world = comm.world_size(), rank = comm.rank(), bs = run.plan.per_device_eval_batch_size;
  const bool rm = run.stage == Stage::Rm;
  const bool sft_accuracy = run.stage != Stage::Rm && run.stage != Stage::Dpo && run.plan.compute_accuracy;
  const std::vector<int64_t> padded = padded_order(indices, bs, world);
  const int64_t n = static_cast<int64_t>(indices.size()), steps = batches_per_rank(n, bs, world);
  // [4, N]: loss, accuracy (rm: 1 for a correct pair), chosen score, rejected score of the example at each position
  // of `indices`; zero where another rank evaluated it, so a sum over ranks gathers them.
  std::vector<double> gathered(static_cast<size_t>(4 * n), 0.0);
  double* loss = gathered.data();
  double* accuracy = loss + n;
  double* chosen = accuracy + n;
  double* rejected = chosen + n;
  // This rank's batches back to back: every one is full (the padding saw to it), so evaluate() cuts the same batches.
  std::vector<int64_t> mine, positions;
  for (int64_t step = 0; step < steps; ++step) {
    const auto part = rank_batch(padded, bs, world, rank, step);
    mine.insert(mine.end(), part.begin(), part.end());
    for (int64_t j = 0; j < bs; ++j) positions.push_back(batch_begin(step, bs, world, rank) + j);
  }
  const EvalResult r = evaluate(model, run, mine, reference);
  for (size_t k = 0; k < positions.size(); ++k) {
    const int64_t p = positions[k];
    if (p >= n) continue;  // accelerate's padding duplicates
    loss[p] = r.sample_loss[k];
    if (rm) {
      chosen[p] = r.chosen_scores[k];
      rejected[p] = r.rejected_scores[k];
      accuracy[p] = r.chosen_scores[k] > r.rejected_scores[k];
    } else if (sft_accuracy) {
      accuracy[p] = r.sample_accuracy[k];
    }
  }
  comm.all_reduce(std::span<double>(gathered), dist::ReduceOp::Sum);

  EvalResult out;
  double loss_sum = 0.0, accuracy_sum = 0.0;
  for (int64_t p = 0; p < n; ++p) loss_sum += loss[p], accuracy_sum += accuracy[p];
  out.run.loss = loss_sum / static_cast<double>(n);
  if (rm || sft_accuracy) out.run.accuracy = accuracy_sum / static_cast<double>(n);
  if (rm)
    for (int64_t p = 0; p < n; ++p) {
      out.chosen_scores.push_back(static_cast<float>(chosen[p]));
      out.rejected_scores.push_back(static_cast<float>(rejected[p]));
    }
  if (sft_accuracy) out.sample_accuracy.assign(accuracy, accuracy + n);
  out.run.metrics = r.run.metrics;  // dpo's eval_rewards/*: this rank's means, as TRL's store_metrics keeps them
  out.run.num_samples = n;
  out.run.num_steps = steps;
  out.run.runtime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace tune
