// Loss / metric curves from the log history, smoothed like LLaMA-Factory and drawn with the SVG chart writer.
#include "report/plot_loss.h"

#include <algorithm>
#include <cmath>

#include "core/atomic_file.h"
#include "core/error.h"
#include "report/svg_chart.h"
#include "report/svg_png.h"

namespace tune {

std::vector<double> smooth_ema(const std::vector<double>& values) {
  if (values.empty()) return {};
  const double weight = 1.8 * (1.0 / (1.0 + std::exp(-0.05 * static_cast<double>(values.size()))) - 0.5);
  std::vector<double> out;
  out.reserve(values.size());
  double last = values[0];
  for (const double v : values) {
    last = last * weight + (1.0 - weight) * v;
    out.push_back(last);
  }
  return out;
}

std::vector<std::string> plot_keys(const std::string& stage) {
  if (stage == "pt") return {"loss", "eval_loss"};
  if (stage == "dpo") return {"loss", "rewards/accuracies", "eval_loss"};  // LF's dpo workflow
  return {"loss", "eval_loss", "eval_accuracy"};
}

std::vector<std::filesystem::path> plot_loss(const std::filesystem::path& dir, const LogHistory& log_history,
                                             const std::vector<std::string>& keys) {
  TUNE_CHECK(log_history.is_array(), "plot_loss: the log history must be a JSON array of log entries");
  std::vector<std::filesystem::path> written;
  for (const auto& key : keys) {
    std::vector<double> steps, values;
    for (const auto& entry : log_history) {
      const auto it = entry.find(key);
      if (it == entry.end() || !it->is_number() || !entry.contains("step")) continue;
      const double v = it->get<double>();
      if (!std::isfinite(v)) continue;
      steps.push_back(entry["step"].get<double>());
      values.push_back(v);
    }
    if (values.empty()) continue;

    LineChart chart;
    chart.title = "training " + key + " of " + dir.string();
    chart.x_label = "step";
    chart.y_label = key;
    chart.series.push_back({"original", steps, values, "#1f77b4", 0.4});
    chart.series.push_back({"smoothed", steps, smooth_ema(values), "#1f77b4", 1.0});

    std::string file_key = key;
    std::replace(file_key.begin(), file_key.end(), '/', '_');
    const auto path = dir / ("training_" + file_key + ".svg");
    const std::string svg = render_svg(chart);
    write_file_atomic(path, svg);
    // LF writes training_<key>.png: the same chart as a PNG beside the SVG
    auto png = path;
    png.replace_extension(".png");
    write_file_atomic(png, svg_to_png(svg, path.string()));
    written.push_back(path);
  }
  return written;
}

}  // namespace tune
