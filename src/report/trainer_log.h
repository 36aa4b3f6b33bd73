// trainer_log.jsonl: one line per log event in LLaMA-Factory HEAD's LogCallback layout (read by LlamaBoard).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace tune {

// Progress of the run when an entry is logged.
struct LogClock {
  int current_steps = 0;              // global_step
  int total_steps = 0;                // max_steps
  double elapsed_s = 0.0;             // since training began
  int64_t num_input_tokens_seen = 0;  // 0 = not tracked (no throughput / total_tokens keys)
};

// Python str(datetime.timedelta(seconds=int(s))): "0:01:05", "12:00:00", "1 day, 2:03:04", "3 days, 0:00:00".
std::string py_timedelta(double seconds);

// The JSON object LLaMA-Factory's LogCallback.on_log writes for a log_history entry, in its key order, nulls dropped:
// current_steps, total_steps, loss, eval_loss, predict_loss, reward, accuracy, lr, epoch, percentage, elapsed_time,
// remaining_time[, throughput, total_tokens]. accuracy is the entry's rewards/accuracies (as LF HEAD) or, when that is
// absent, its eval_accuracy, so RM runs record their eval accuracy too. remaining_time extrapolates the mean step time.
nlohmann::ordered_json trainer_log_record(const nlohmann::ordered_json& entry, const LogClock& clock);

// Appends py_json_dumps(record) + "\n" to <dir>/trainer_log.jsonl in one O_APPEND write (the file only grows, so a
// crash can cut at most the last line; rewriting it atomically per event would cost O(n^2) I/O on long runs).
void append_trainer_log(const std::filesystem::path& dir, const nlohmann::ordered_json& record);

}  // namespace tune
