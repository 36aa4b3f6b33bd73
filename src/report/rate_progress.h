// Console progress for a stream of unknown length (`tune score`): lines done and lines per second, on stderr.
#pragma once
#include <cstdint>
#include <ostream>
#include <string>

namespace tune {

class RateProgress {
 public:
  // redraw: out is a terminal, so the status line is redrawn in place (at most every kRedrawSeconds); otherwise a
  // status line is printed every kLogSeconds. Times are seconds since the start, from the caller's clock.
  RateProgress(std::ostream& out, bool redraw);

  void add(int64_t lines, double elapsed_s);
  // Prints the final status line (ending the redrawn one).
  void finish(double elapsed_s);

  // "1200 lines scored, 35.2 lines/s, 0:34"
  std::string status_line(double elapsed_s) const;

  static bool stderr_is_terminal();

  static constexpr double kRedrawSeconds = 0.25;
  static constexpr double kLogSeconds = 10.0;

 private:
  std::ostream& out_;
  bool redraw_;
  int64_t done_ = 0;
  double last_shown_s_ = 0.0;
};

}  // namespace tune
