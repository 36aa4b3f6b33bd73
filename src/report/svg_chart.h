// A small SVG line-chart writer: axes with ticks and labels, grid, title, legend, one polyline per series.
#pragma once
#include <string>
#include <vector>

namespace tune {

struct ChartSeries {
  std::string label;               // legend text
  std::vector<double> x, y;        // same length; points with a non-finite coordinate are left out
  std::string color = "#1f77b4";   // SVG color
  double opacity = 1.0;            // stroke opacity
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<ChartSeries> series;
  int width = 640;   // pixels (matplotlib's default 6.4 x 4.8 in at 100 dpi)
  int height = 480;
};

// "Nice" tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi], at most about max_ticks of them.
std::vector<double> nice_ticks(double lo, double hi, int max_ticks = 8);

// The chart as a standalone SVG document. Throws tune::Error when no series has a finite point or a series' x and
// y lengths differ. All text is XML-escaped.
std::string render_svg(const LineChart& chart);

}  // namespace tune
