// HF-Trainer-style log_history entries (transformers 4.38 key order and rounding), built from raw loop numbers.
// A log history is a JSON array of these entries in the order they were logged; trainer_state.json, the model card,
// trainer_log.jsonl, the plots and the console all read it.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tune {

using LogHistory = nlohmann::ordered_json;  // array of entries

// Stage metrics a trainer adds to its logs (TRL's rewards/chosen, ...), in order.
using StageMetrics = std::vector<std::pair<std::string, double>>;

// A training log at `step`: {loss, grad_norm, learning_rate, <metrics>, epoch, step}. loss is the mean
// per-optimizer-step loss over the logging window (rounded to 4 decimals, as HF does); epoch is rounded to 2 decimals
// (HF 4.38 log()); metrics are the stage's window means (TRL's log adds them before HF adds epoch and step).
nlohmann::ordered_json train_log_entry(double mean_loss, double grad_norm, double learning_rate, double epoch,
                                       int step, const StageMetrics& metrics = {});

// One evaluation pass.
struct EvalRun {
  double loss = 0.0;                // mean eval loss
  std::optional<double> accuracy;   // RM pair accuracy (eval_accuracy); absent for stages without it
  double runtime_s = 0.0;           // wall time of the pass
  int64_t num_samples = 0;          // examples evaluated
  int64_t num_steps = 0;            // eval batches over all ranks: ceil(num_samples / (eval batch * world))
  StageMetrics metrics;             // dpo: eval_rewards/chosen, ... (after the speed metrics, as TRL's log adds them)
};

// {eval_loss, eval_accuracy?, eval_runtime, eval_samples_per_second, eval_steps_per_second, <metrics>, epoch, step};
// runtime rounded to 4 decimals and the rates to 3 (HF speed_metrics; rates are left out when runtime is 0).
nlohmann::ordered_json eval_log_entry(const EvalRun& run, double epoch, int step);

// The end of training.
struct TrainEnd {
  double runtime_s = 0.0;
  double num_samples = 0.0;  // HF: len(train set) * num_train_epochs, or max_steps * total batch with max_steps set
  int64_t num_steps = 0;     // max_steps
  double total_flos = 0.0;
  double train_loss = 0.0;   // mean loss over all optimizer steps of this run
};

// {train_runtime, train_samples_per_second, train_steps_per_second, total_flos, train_loss, epoch, step}.
nlohmann::ordered_json train_end_entry(const TrainEnd& end, double epoch, int step);

// The metrics dict HF passes to save_metrics / prints: the entry without "step" (and, for the console, HF also drops
// total_flos; see Progress).
nlohmann::ordered_json metrics_of(const nlohmann::ordered_json& entry);

}  // namespace tune
