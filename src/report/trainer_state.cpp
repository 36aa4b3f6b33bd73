// trainer_state.json and save_metrics files in transformers 4.38's layout (Python json.dumps text).
#include "report/trainer_state.h"

#include <algorithm>
#include <cmath>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/py_json.h"

namespace tune {
namespace {

// HF _inner_training_loop: with max_steps set, the epochs needed to cover it; otherwise ceil(num_train_epochs).
int hf_num_train_epochs(const Plan& plan, const RunFacts& facts) {
  if (plan.max_steps > 0) {
    const int per_epoch = std::max(facts.steps_per_epoch, 1);
    return plan.max_steps / per_epoch + (plan.max_steps % per_epoch > 0 ? 1 : 0);
  }
  return static_cast<int>(std::ceil(plan.num_train_epochs));
}

}  // namespace

nlohmann::ordered_json trainer_state(const Plan& plan, const RunFacts& facts, const LogHistory& log_history) {
  TUNE_CHECK(log_history.is_array(), "trainer_state: the log history must be a JSON array of log entries");
  nlohmann::ordered_json s;
  s["best_metric"] = nullptr;
  s["best_model_checkpoint"] = nullptr;
  s["epoch"] = facts.epoch;
  s["eval_steps"] = plan.eval_steps.value_or(500);  // HF TrainerState default when evaluation is off
  s["global_step"] = facts.global_step;
  s["is_hyper_param_search"] = false;
  s["is_local_process_zero"] = true;
  s["is_world_process_zero"] = true;
  s["log_history"] = log_history;
  s["logging_steps"] = plan.logging_steps;
  s["max_steps"] = facts.max_steps;
  s["num_input_tokens_seen"] = facts.num_input_tokens_seen;
  s["num_train_epochs"] = hf_num_train_epochs(plan, facts);
  s["save_steps"] = plan.save_steps;
  s["total_flos"] = facts.total_flos;
  s["train_batch_size"] = plan.per_device_train_batch_size;
  s["trial_name"] = nullptr;
  s["trial_params"] = nullptr;
  return s;
}

void save_trainer_state(const std::filesystem::path& dir, const Plan& plan, const RunFacts& facts,
                        const LogHistory& log_history) {
  const auto text = py_json_dumps(trainer_state(plan, facts, log_history), {.indent = 2, .sort_keys = true});
  write_file_atomic(dir / "trainer_state.json", text + "\n");
}

void save_metrics(const std::filesystem::path& dir, const std::string& split, const nlohmann::ordered_json& metrics) {
  TUNE_CHECK(metrics.is_object(), "save_metrics(", split, "): metrics must be a JSON object");
  const PyJsonStyle style{.indent = 4, .sort_keys = true};
  write_file_atomic(dir / (split + "_results.json"), py_json_dumps(metrics, style));

  const auto all_path = dir / "all_results.json";
  nlohmann::ordered_json all = nlohmann::ordered_json::object();
  if (std::filesystem::exists(all_path)) {
    all = py_json_loads(read_text_file(all_path), all_path.string());
    TUNE_CHECK(all.is_object(), all_path.string(),
               ": expected a JSON object of metrics; delete the file and run again");
  }
  for (auto it = metrics.begin(); it != metrics.end(); ++it) all[it.key()] = it.value();
  write_file_atomic(all_path, py_json_dumps(all, style));
}

}  // namespace tune
