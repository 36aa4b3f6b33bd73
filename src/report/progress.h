// Console progress for a training run: a redrawn status line on a terminal, HF-style log lines everywhere.
#pragma once
#include <deque>
#include <optional>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

namespace tune {

class Progress {
 public:
  // total_steps: optimizer steps of the run. redraw: out is a terminal, so the status line is redrawn in place
  // (use stdout_is_terminal()); otherwise only log lines are printed.
  Progress(int total_steps, std::ostream& out, bool redraw);

  // An optimizer step finished: global_step steps are done, the last one took `seconds`; loss is that step's loss
  // when known. On a terminal redraws
  //   step 12/260 [#-------------------] 4.6% loss 1.0234 lr 9.9e-07 3.2 it/s ETA 1:21
  void step(int global_step, double seconds, std::optional<double> loss, double learning_rate);

  // A log_history entry was logged: prints HF Trainer's line for it, str() of the entry without step and total_flos:
  //   {'loss': 1.0698, 'grad_norm': 2.25, 'learning_rate': 9.96e-07, 'epoch': 0.04}
  // (on a terminal above the status line, which is then redrawn).
  void log(const nlohmann::ordered_json& entry);

  // Ends the status line (terminal only) so later output starts on a fresh line.
  void finish();

  // The current status line text (no escape codes). Rate and ETA use the mean of the last kWindow step times.
  std::string status_line() const;

  static bool stdout_is_terminal();

  static constexpr size_t kWindow = 20;
  static constexpr int kBarWidth = 20;

 private:
  void redraw();

  int total_steps_;
  std::ostream& out_;
  bool redraw_;
  int done_ = 0;
  std::optional<double> loss_;
  double learning_rate_ = 0.0;
  std::deque<double> recent_seconds_;  // last kWindow step times
  bool line_open_ = false;             // a status line is on screen without its newline
};

// "1:21" below an hour, "2:03:04" from one hour on (negative or non-finite -> "?").
std::string format_eta(double seconds);

}  // namespace tune
