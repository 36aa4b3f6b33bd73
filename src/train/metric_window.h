// MetricWindow: named per-micro-batch metrics averaged over a logging window, as TRL's store_metrics / log do
// (each log reports the mean of the values stored since the previous one, then forgets them).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/log_history.h"

namespace tune {

using NamedMetrics = StageMetrics;  // name -> value, in logging order

class MetricWindow {
 public:
  // Adds one batch's metrics (the same names in the same order each time).
  void add(const NamedMetrics& m);
  bool empty() const { return count_ == 0; }
  // The means since the last take (names as added, each with `prefix`, values as float32 like torch's mean), and
  // clears the window.
  NamedMetrics take_means(const std::string& prefix = "");
  // Exact (hex-float) state for checkpoints, and back.
  nlohmann::ordered_json to_json() const;
  static MetricWindow from_json(const nlohmann::json& j);

 private:
  NamedMetrics sums_;
  int64_t count_ = 0;
};

}  // namespace tune
