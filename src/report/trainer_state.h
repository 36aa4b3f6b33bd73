// trainer_state.json and the {train,eval,all}_results.json metric files, as transformers 4.38 writes them.
#pragma once
#include <filesystem>
#include <string>

#include "config/plan.h"
#include "report/log_history.h"
#include "report/run_facts.h"

namespace tune {

// The HF 4.38 TrainerState as JSON: best_metric, best_model_checkpoint, epoch, eval_steps, global_step,
// is_hyper_param_search, is_local_process_zero, is_world_process_zero, log_history, logging_steps, max_steps,
// num_input_tokens_seen, num_train_epochs, save_steps, total_flos, train_batch_size, trial_name, trial_params.
nlohmann::ordered_json trainer_state(const Plan& plan, const RunFacts& facts, const LogHistory& log_history);

// json.dumps(state, indent=2, sort_keys=True) + "\n" written atomically to <dir>/trainer_state.json (HF save_state;
// LLaMA-Factory calls it after training, before the final evaluate, and again inside every checkpoint).
void save_trainer_state(const std::filesystem::path& dir, const Plan& plan, const RunFacts& facts,
                        const LogHistory& log_history);

// HF save_metrics(split, metrics): <dir>/<split>_results.json (indent 4, sorted keys, no trailing newline), then
// merges metrics into <dir>/all_results.json (keys already there are kept unless overwritten). Both atomic.
// metrics is usually metrics_of(entry) of the train-end or final eval entry.
void save_metrics(const std::filesystem::path& dir, const std::string& split, const nlohmann::ordered_json& metrics);

}  // namespace tune
