#include "report/rate_progress.h"

#include <unistd.h>

#include "core/py_json.h"
#include "report/progress.h"

namespace tune {

RateProgress::RateProgress(std::ostream& out, bool redraw) : out_(out), redraw_(redraw) {}

bool RateProgress::stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

void RateProgress::add(int64_t lines, double elapsed_s) {
  done_ += lines;
  if (elapsed_s - last_shown_s_ < (redraw_ ? kRedrawSeconds : kLogSeconds)) return;
  last_shown_s_ = elapsed_s;
  out_ << (redraw_ ? "\r\x1b[K" : "") << status_line(elapsed_s) << (redraw_ ? "" : "\n");
  out_.flush();
}

void RateProgress::finish(double elapsed_s) {
  out_ << (redraw_ ? "\r\x1b[K" : "") << status_line(elapsed_s) << "\n";
  out_.flush();
}

std::string RateProgress::status_line(double elapsed_s) const {
  const double rate = elapsed_s > 0.0 ? static_cast<double>(done_) / elapsed_s : 0.0;
  return std::to_string(done_) + (done_ == 1 ? " line" : " lines") + " scored, " + py_format_fixed(rate, 1) +
         " lines/s, " + format_eta(elapsed_s);
}

}  // namespace tune
