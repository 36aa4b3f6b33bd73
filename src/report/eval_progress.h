// Console progress of one evaluation pass (batches of a known count), on stderr as HF's tqdm eval bar is.
#pragma once
#include <cstdint>
#include <ostream>
#include <string>

namespace tune {

class EvalProgress {
 public:
  // redraw: out is a terminal, so the status line is redrawn in place (at most every kRedrawSeconds); otherwise a
  // status line is printed every kLogSeconds and at the end. Times are seconds since the pass began.
  EvalProgress(int64_t total_batches, std::ostream& out, bool redraw);

  void update(int64_t batches_done, double elapsed_s);
  // Prints the final status line (ending the redrawn one).
  void finish(int64_t batches_done, double elapsed_s);

  //   eval 12/55 [####----------------] 21.8% 3.1 it/s ETA 0:14
  // (s/it below 1 it/s; the elapsed "0:03" instead of the ETA when done)
  std::string status_line(int64_t batches_done, double elapsed_s) const;

  static bool stderr_is_terminal();

  static constexpr double kRedrawSeconds = 0.25;
  static constexpr double kLogSeconds = 10.0;
  static constexpr int kBarWidth = 20;

 private:
  int64_t total_;
  std::ostream& out_;
  bool redraw_;
  double last_shown_s_ = 0.0;
};

}  // namespace tune
