// SVG line charts: data range with 5% margins, nice ticks, frame, grid, labels, polylines and a legend box.
#include "report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/py_json.h"

namespace tune {
namespace {

constexpr double kLeft = 80, kRight = 24, kTop = 48, kBottom = 64;  // margins around the plot area, pixels

std::string xml_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string px(double v) { return py_format_fixed(v, 2); }

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  // matplotlib-style 5% margins; a zero-width range gets a unit (or 5%-of-value) window around its value.
  Range padded() const {
    // A span lost in the values' rounding (e.g. 0.7313 vs 0.7313000000000001) counts as zero-width.
    const double span = hi - lo > 1e-9 * std::max(1.0, std::fabs(lo)) ? hi - lo : 0.0;
    const double pad = span > 0 ? 0.05 * span : std::max(0.05 * std::fabs(lo), 0.5);
    return {lo - pad, hi + pad};
  }
};

// Decimals that show every tick of this spacing exactly: 0.02 -> 2, 50 -> 0, 0.005 -> 3.
int tick_decimals(const std::vector<double>& ticks) {
  if (ticks.size() < 2) return 2;
  const double step = ticks[1] - ticks[0];
  return std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int max_ticks) {
  TUNE_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo < hi && max_ticks >= 2,
             "nice_ticks: need a finite range lo < hi and max_ticks >= 2, got [", lo, ", ", hi, "] and ", max_ticks);
  const double raw = (hi - lo) / (max_ticks - 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double step = (norm <= 1.0 ? 1.0 : norm <= 2.0 ? 2.0 : norm <= 5.0 ? 5.0 : 10.0) * mag;
  // Count ticks with an integer: for values far from 0 relative to the step, `k += 1.0` on a double can stall.
  const double first = std::ceil(lo / step - 1e-9);
  const int64_t count = static_cast<int64_t>(std::floor(hi / step + 1e-9) - first) + 1;
  std::vector<double> ticks;
  for (int64_t i = 0; i < std::min<int64_t>(count, 4 * max_ticks); ++i) {
    const double t = (first + static_cast<double>(i)) * step;
    ticks.push_back(t == 0.0 ? 0.0 : t);  // no "-0"
  }
  return ticks;
}

std::string render_svg(const LineChart& chart) {
  Range xr, yr;
  for (const auto& s : chart.series) {
    TUNE_CHECK(s.x.size() == s.y.size(), "chart '", chart.title, "': series '", s.label, "' has ", s.x.size(),
               " x values but ", s.y.size(), " y values");
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      xr.add(s.x[i]);
      yr.add(s.y[i]);
    }
  }
  TUNE_CHECK(xr.lo <= xr.hi, "chart '", chart.title, "': no finite data points to plot");
  xr = xr.padded();
  yr = yr.padded();

  const double w = chart.width, h = chart.height;
  const double x0 = kLeft, x1 = w - kRight, y0 = kTop, y1 = h - kBottom;  // plot area; y grows downwards
  auto sx = [&](double v) { return x0 + (v - xr.lo) / (xr.hi - xr.lo) * (x1 - x0); };
  auto sy = [&](double v) { return y1 - (v - yr.lo) / (yr.hi - yr.lo) * (y1 - y0); };

  std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(chart.width) + "\" height=\"" +
         std::to_string(chart.height) + "\" viewBox=\"0 0 " + std::to_string(chart.width) + " " +
         std::to_string(chart.height) + "\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  // Long titles (LF puts the output path in it) shrink to fit the width, at about 0.55 em per character.
  const double title_chars = std::max(1.0, static_cast<double>(chart.title.size()));
  const double title_size = std::clamp((w - 40) / (0.55 * title_chars), 7.0, 14.0);
  svg += "<text x=\"" + px(w / 2) + "\" y=\"28\" text-anchor=\"middle\" font-size=\"" + px(title_size) + "\">" +
         xml_escape(chart.title) + "</text>\n";

  const auto xt = nice_ticks(xr.lo, xr.hi);
  const auto yt = nice_ticks(yr.lo, yr.hi);
  const int xd = tick_decimals(xt), yd = tick_decimals(yt);
  svg += "<g stroke=\"#e6e6e6\" stroke-width=\"1\">\n";
  for (const double t : xt)
    svg += "<line x1=\"" + px(sx(t)) + "\" y1=\"" + px(y0) + "\" x2=\"" + px(sx(t)) + "\" y2=\"" + px(y1) + "\"/>\n";
  for (const double t : yt)
    svg += "<line x1=\"" + px(x0) + "\" y1=\"" + px(sy(t)) + "\" x2=\"" + px(x1) + "\" y2=\"" + px(sy(t)) + "\"/>\n";
  svg += "</g>\n";
  svg += "<rect x=\"" + px(x0) + "\" y=\"" + px(y0) + "\" width=\"" + px(x1 - x0) + "\" height=\"" + px(y1 - y0) +
         "\" fill=\"none\" stroke=\"black\" stroke-width=\"1\"/>\n";
  svg += "<g class=\"x-ticks\" text-anchor=\"middle\">\n";
  for (const double t : xt) {
    svg += "<line x1=\"" + px(sx(t)) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(sx(t)) + "\" y2=\"" + px(y1 + 5) +
           "\" stroke=\"black\"/>\n";
    svg += "<text x=\"" + px(sx(t)) + "\" y=\"" + px(y1 + 19) + "\">" + py_format_fixed(t, xd) + "</text>\n";
  }
  svg += "</g>\n<g class=\"y-ticks\" text-anchor=\"end\">\n";
  for (const double t : yt) {
    svg += "<line x1=\"" + px(x0 - 5) + "\" y1=\"" + px(sy(t)) + "\" x2=\"" + px(x0) + "\" y2=\"" + px(sy(t)) +
           "\" stroke=\"black\"/>\n";
    svg += "<text x=\"" + px(x0 - 8) + "\" y=\"" + px(sy(t) + 4) + "\">" + py_format_fixed(t, yd) + "</text>\n";
  }
  svg += "</g>\n";
  svg += "<text x=\"" + px((x0 + x1) / 2) + "\" y=\"" + px(h - 20) + "\" text-anchor=\"middle\">" +
         xml_escape(chart.x_label) + "</text>\n";
  svg += "<text x=\"20\" y=\"" + px((y0 + y1) / 2) + "\" text-anchor=\"middle\" transform=\"rotate(-90 20 " +
         px((y0 + y1) / 2) + ")\">" + xml_escape(chart.y_label) + "</text>\n";

  for (const auto& s : chart.series) {
    std::string points;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      if (!points.empty()) points += ' ';
      points += px(sx(s.x[i])) + "," + px(sy(s.y[i]));
    }
    svg += "<polyline fill=\"none\" stroke=\"" + xml_escape(s.color) + "\" stroke-opacity=\"" +
           py_float_repr(s.opacity) + "\" stroke-width=\"1.5\" points=\"" + points + "\"/>\n";
  }

  // Legend: upper right inside the plot area, one sample line and label per series.
  const double row_h = 18, box_w = 110, box_h = 8 + row_h * static_cast<double>(chart.series.size());
  const double bx = x1 - box_w - 8, by = y0 + 8;
  svg += "<g class=\"legend\">\n<rect x=\"" + px(bx) + "\" y=\"" + px(by) + "\" width=\"" + px(box_w) +
         "\" height=\"" + px(box_h) + "\" fill=\"white\" fill-opacity=\"0.8\" stroke=\"#cccccc\"/>\n";
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const auto& s = chart.series[i];
    const double ly = by + 4 + row_h * (static_cast<double>(i) + 0.5);
    svg += "<line x1=\"" + px(bx + 8) + "\" y1=\"" + px(ly) + "\" x2=\"" + px(bx + 36) + "\" y2=\"" + px(ly) +
           "\" stroke=\"" + xml_escape(s.color) + "\" stroke-opacity=\"" + py_float_repr(s.opacity) +
           "\" stroke-width=\"1.5\"/>\n";
    svg += "<text x=\"" + px(bx + 44) + "\" y=\"" + px(ly + 4) + "\">" + xml_escape(s.label) + "</text>\n";
  }
  svg += "</g>\n</svg>\n";
  return svg;
}

}  // namespace tune
