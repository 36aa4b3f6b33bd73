// LLaMA-Factory LogCallback records (trainer_log.jsonl) built from log_history entries.
#include "report/trainer_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

#include "core/error.h"
#include "core/py_json.h"

namespace tune {
namespace {

// entry[key] copied into record[as] when present and not null.
void copy_if_present(const nlohmann::ordered_json& entry, const char* key, nlohmann::ordered_json& record,
                     const char* as) {
  const auto it = entry.find(key);
  if (it != entry.end() && !it->is_null()) record[as] = *it;
}

}  // namespace

std::string py_timedelta(double seconds) {
  const auto total = static_cast<int64_t>(seconds);  // int(): truncates toward zero
  const int64_t days = total >= 0 ? total / 86400 : -((-total + 86399) / 86400);
  const int64_t rest = total - days * 86400;
  char hms[32];
  std::snprintf(hms, sizeof hms, "%d:%02d:%02d", static_cast<int>(rest / 3600), static_cast<int>(rest / 60 % 60),
                static_cast<int>(rest % 60));
  if (days == 0) return hms;
  return std::to_string(days) + (days == 1 || days == -1 ? " day, " : " days, ") + hms;
}

nlohmann::ordered_json trainer_log_record(const nlohmann::ordered_json& entry, const LogClock& clock) {
  const double avg_step_s = clock.current_steps != 0 ? clock.elapsed_s / clock.current_steps : 0.0;
  const double remaining_s = (clock.total_steps - clock.current_steps) * avg_step_s;

  nlohmann::ordered_json r;
  r["current_steps"] = clock.current_steps;
  r["total_steps"] = clock.total_steps;
  copy_if_present(entry, "loss", r, "loss");
  copy_if_present(entry, "eval_loss", r, "eval_loss");
  copy_if_present(entry, "predict_loss", r, "predict_loss");
  copy_if_present(entry, "reward", r, "reward");
  copy_if_present(entry, "rewards/accuracies", r, "accuracy");
  if (!r.contains("accuracy")) copy_if_present(entry, "eval_accuracy", r, "accuracy");
  copy_if_present(entry, "learning_rate", r, "lr");
  copy_if_present(entry, "epoch", r, "epoch");
  if (clock.total_steps != 0)
    r["percentage"] = py_round(static_cast<double>(clock.current_steps) / clock.total_steps * 100.0, 2);
  else
    r["percentage"] = 100;
  r["elapsed_time"] = py_timedelta(clock.elapsed_s);
  r["remaining_time"] = py_timedelta(remaining_s);
  if (clock.num_input_tokens_seen != 0 && clock.elapsed_s > 0.0) {
    r["throughput"] = py_round(static_cast<double>(clock.num_input_tokens_seen) / clock.elapsed_s, 2);
    r["total_tokens"] = clock.num_input_tokens_seen;
  }
  return r;
}

void append_trainer_log(const std::filesystem::path& dir, const nlohmann::ordered_json& record) {
  const auto path = dir / "trainer_log.jsonl";
  const std::string line = py_json_dumps(record) + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  auto failed = [&](const char* step, int err) {
    fail("cannot append to ", path.string(), ": ", step, " failed: ",
         std::error_code(err, std::generic_category()).message(),
         " (check that the output folder exists, is writable and has free space)");
  };
  if (fd < 0) failed("open", errno);
  const ssize_t n = ::write(fd, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) {
    const int err = n < 0 ? errno : ENOSPC;
    ::close(fd);
    failed("write", err);
  }
  if (::close(fd) != 0) failed("close", errno);
}

}  // namespace tune
