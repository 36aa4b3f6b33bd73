// MetricWindow: sums of named metrics over a logging window and their exact checkpoint form.
#include "train/metric_window.h"

#include <cstdio>
#include <cstdlib>

#include "core/error.h"

namespace tune {

void MetricWindow::add(const NamedMetrics& m) {
  if (count_ == 0) {
    sums_ = m;
  } else {
    TUNE_CHECK(m.size() == sums_.size(), "metric window: a batch logged ", m.size(), " metrics, earlier ones ",
               sums_.size());
    for (size_t i = 0; i < m.size(); ++i) {
      TUNE_CHECK(m[i].first == sums_[i].first, "metric window: metric ", i, " is '", m[i].first, "', expected '",
                 sums_[i].first, "'");
      sums_[i].second += m[i].second;
    }
  }
  ++count_;
}

NamedMetrics MetricWindow::take_means(const std::string& prefix) {
  NamedMetrics out;
  for (const auto& [name, sum] : sums_)
    out.emplace_back(prefix + name, static_cast<double>(static_cast<float>(sum / static_cast<double>(count_))));
  sums_.clear();
  count_ = 0;
  return out;
}

nlohmann::ordered_json MetricWindow::to_json() const {
  nlohmann::ordered_json j;
  j["count"] = count_;
  j["sums"] = nlohmann::ordered_json::array();
  for (const auto& [name, sum] : sums_) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%a", sum);
    j["sums"].push_back({name, buf});
  }
  return j;
}

MetricWindow MetricWindow::from_json(const nlohmann::json& j) {
  MetricWindow w;
  w.count_ = j.at("count").get<int64_t>();
  for (const auto& item : j.at("sums"))
    w.sums_.emplace_back(item.at(0).get<std::string>(), std::strtod(item.at(1).get<std::string>().c_str(), nullptr));
  return w;
}

}  // namespace tune
