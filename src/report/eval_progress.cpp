// The eval status line (bar, it/s, ETA), redrawn on a terminal or logged every kLogSeconds and at the end.
#include "report/eval_progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "core/py_json.h"
#include "report/progress.h"

namespace tune {

EvalProgress::EvalProgress(int64_t total_batches, std::ostream& out, bool redraw)
    : total_(total_batches), out_(out), redraw_(redraw) {}

bool EvalProgress::stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

void EvalProgress::update(int64_t batches_done, double elapsed_s) {
  if (elapsed_s - last_shown_s_ < (redraw_ ? kRedrawSeconds : kLogSeconds)) return;
  last_shown_s_ = elapsed_s;
  out_ << (redraw_ ? "\r\x1b[K" : "") << status_line(batches_done, elapsed_s) << (redraw_ ? "" : "\n");
  out_.flush();
}

void EvalProgress::finish(int64_t batches_done, double elapsed_s) {
  out_ << (redraw_ ? "\r\x1b[K" : "") << status_line(batches_done, elapsed_s) << "\n";
  out_.flush();
}

std::string EvalProgress::status_line(int64_t batches_done, double elapsed_s) const {
  const double frac = total_ > 0 ? std::min(1.0, static_cast<double>(batches_done) / static_cast<double>(total_)) : 1.0;
  const auto filled = static_cast<int>(std::floor(frac * kBarWidth));
  std::string line = "eval " + std::to_string(batches_done) + "/" + std::to_string(total_) + " [" +
                     std::string(static_cast<size_t>(filled), '#') +
                     std::string(static_cast<size_t>(kBarWidth - filled), '-') + "] " +
                     py_format_fixed(frac * 100.0, 1) + "%";
  if (batches_done > 0 && elapsed_s > 0) {
    const double per_batch = elapsed_s / static_cast<double>(batches_done);
    line += per_batch <= 1.0 ? " " + py_format_fixed(1.0 / per_batch, 1) + " it/s"
                             : " " + py_format_fixed(per_batch, 1) + " s/it";
    line += batches_done >= total_ ? " " + format_eta(elapsed_s)
                                   : " ETA " + format_eta(per_batch * static_cast<double>(total_ - batches_done));
  }
  return line;
}

}  // namespace tune
