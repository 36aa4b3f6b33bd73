// Terminal status line (progress bar, loss, lr, speed, ETA) and HF-style per-log console lines.
#include "report/progress.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "core/py_json.h"

namespace tune {
namespace {

// printf("%.1e"): "9.9e-07".
std::string sci1(double x) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific, 1);
  return std::string(buf, res.ptr);
}

}  // namespace

std::string format_eta(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(std::llround(seconds));
  char buf[48];
  if (s < 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

Progress::Progress(int total_steps, std::ostream& out, bool redraw)
    : total_steps_(total_steps), out_(out), redraw_(redraw) {}

bool Progress::stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

void Progress::step(int global_step, double seconds, std::optional<double> loss, double learning_rate) {
  done_ = global_step;
  loss_ = loss;
  learning_rate_ = learning_rate;
  recent_seconds_.push_back(seconds);
  if (recent_seconds_.size() > kWindow) recent_seconds_.pop_front();
  if (redraw_) redraw();
}

void Progress::log(const nlohmann::ordered_json& entry) {
  nlohmann::ordered_json shown = entry;
  shown.erase("step");
  shown.erase("total_flos");
  if (redraw_ && line_open_) out_ << "\r\x1b[K";
  out_ << py_repr(shown) << "\n";
  line_open_ = false;
  if (redraw_ && done_ > 0) redraw();
  out_.flush();
}

void Progress::finish() {
  if (redraw_ && line_open_) out_ << "\n";
  line_open_ = false;
  out_.flush();
}

std::string Progress::status_line() const {
  const double frac = total_steps_ > 0 ? std::min(1.0, static_cast<double>(done_) / total_steps_) : 1.0;
  const auto filled = static_cast<int>(std::floor(frac * kBarWidth));
  std::string line = "step " + std::to_string(done_) + "/" + std::to_string(total_steps_) + " [" +
                     std::string(static_cast<size_t>(filled), '#') +
                     std::string(static_cast<size_t>(kBarWidth - filled), '-') + "] " +
                     py_format_fixed(frac * 100.0, 1) + "%";
  if (loss_) line += " loss " + py_format_fixed(*loss_, 4);
  line += " lr " + sci1(learning_rate_);
  if (!recent_seconds_.empty()) {
    const double mean = std::accumulate(recent_seconds_.begin(), recent_seconds_.end(), 0.0) /
                        static_cast<double>(recent_seconds_.size());
    if (mean > 0) line += mean <= 1.0 ? " " + py_format_fixed(1.0 / mean, 1) + " it/s"
                                      : " " + py_format_fixed(mean, 1) + " s/it";
    line += " ETA " + format_eta(mean * (total_steps_ - done_));
  }
  return line;
}

void Progress::redraw() {
  out_ << "\r" << status_line() << "\x1b[K";
  out_.flush();
  line_open_ = true;
}

}  // namespace tune
