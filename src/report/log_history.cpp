// Builders for HF-Trainer-style log_history entries with transformers 4.38's rounding.
#include "report/log_history.h"

#include <string>

#include "core/py_json.h"

namespace tune {
namespace {

// HF speed_metrics: {<split>_runtime: round(t, 4)} plus samples/steps per second rounded to 3 unless t is 0.
void add_speed_metrics(nlohmann::ordered_json& entry, const std::string& split, double runtime_s, double num_samples,
                       int64_t num_steps) {
  entry[split + "_runtime"] = py_round(runtime_s, 4);
  if (runtime_s == 0.0) return;
  entry[split + "_samples_per_second"] = py_round(num_samples / runtime_s, 3);
  entry[split + "_steps_per_second"] = py_round(static_cast<double>(num_steps) / runtime_s, 3);
}

void add_epoch_and_step(nlohmann::ordered_json& entry, double epoch, int step) {
  entry["epoch"] = py_round(epoch, 2);
  entry["step"] = step;
}

}  // namespace

nlohmann::ordered_json train_log_entry(double mean_loss, double grad_norm, double learning_rate, double epoch,
                                       int step, const StageMetrics& metrics) {
  nlohmann::ordered_json e;
  e["loss"] = py_round(mean_loss, 4);
  e["grad_norm"] = grad_norm;
  e["learning_rate"] = learning_rate;
  for (const auto& [name, value] : metrics) e[name] = value;
  add_epoch_and_step(e, epoch, step);
  return e;
}

nlohmann::ordered_json eval_log_entry(const EvalRun& run, double epoch, int step) {
  nlohmann::ordered_json e;
  e["eval_loss"] = run.loss;
  if (run.accuracy) e["eval_accuracy"] = *run.accuracy;
  add_speed_metrics(e, "eval", run.runtime_s, static_cast<double>(run.num_samples), run.num_steps);
  for (const auto& [name, value] : run.metrics) e[name] = value;
  add_epoch_and_step(e, epoch, step);
  return e;
}

nlohmann::ordered_json train_end_entry(const TrainEnd& end, double epoch, int step) {
  nlohmann::ordered_json e;
  add_speed_metrics(e, "train", end.runtime_s, end.num_samples, end.num_steps);
  e["total_flos"] = end.total_flos;
  e["train_loss"] = end.train_loss;
  add_epoch_and_step(e, epoch, step);
  return e;
}

nlohmann::ordered_json metrics_of(const nlohmann::ordered_json& entry) {
  nlohmann::ordered_json m = entry;
  m.erase("step");
  return m;
}

}  // namespace tune
