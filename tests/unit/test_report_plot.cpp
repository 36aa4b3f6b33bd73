// Tests for the SVG charts: LF's smoothing, tick choice, point placement, well-formed XML and the plot_loss files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "report/log_history.h"
#include "report/plot_loss.h"
#include "report/svg_chart.h"
#include "report/svg_png.h"

#include <cairo.h>

namespace tune {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Checks the text is well-formed XML as far as this writer goes: one root, every element closed in order, quoted
// attribute values, no raw '<' or stray '&' in text. Returns "" or the first problem.
std::string xml_problem(const std::string& doc) {
  std::vector<std::string> open;
  int roots = 0;
  size_t i = 0;
  while (i < doc.size()) {
    if (doc[i] != '<') {
      if (doc[i] == '&') {
        const size_t semi = doc.find(';', i);
        const std::string ent = doc.substr(i, semi == std::string::npos ? 0 : semi - i + 1);
        if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;" && ent != "&apos;")
          return "bad entity at " + std::to_string(i);
      }
      ++i;
      continue;
    }
    const size_t end = doc.find('>', i);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(i);
    const std::string tag = doc.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.front() == '?') continue;  // XML declaration
    if (tag.front() == '/') {
      if (open.empty() || open.back() != tag.substr(1)) return "mismatched </" + tag.substr(1) + ">";
      open.pop_back();
      continue;
    }
    if (std::count(tag.begin(), tag.end(), '"') % 2 != 0) return "unbalanced quotes in <" + tag + ">";
    if (open.empty()) ++roots;
    if (tag.back() == '/') continue;
    open.push_back(tag.substr(0, tag.find(' ')));
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  return roots == 1 ? "" : "expected one root element, found " + std::to_string(roots);
}

// The points attribute of each <polyline>, split into "x,y" pairs.
std::vector<std::vector<std::string>> polylines(const std::string& svg) {
  std::vector<std::vector<std::string>> out;
  for (size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) {
    const size_t p = svg.find("points=\"", at) + 8;
    std::istringstream pts(svg.substr(p, svg.find('"', p) - p));
    std::vector<std::string> pairs;
    for (std::string xy; pts >> xy;) pairs.push_back(xy);
    out.push_back(pairs);
  }
  return out;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(SmoothEma, MatchesLlamaFactory) {
  const auto s = smooth_ema({1.0, 2.0, 3.0});  // weight = 1.8 * (sigmoid(0.15) - 0.5)
  ASSERT_EQ(s.size(), 3u);
  EXPECT_DOUBLE_EQ(s[0], 1.0);
  EXPECT_DOUBLE_EQ(s[1], 1.9326262783812507);
  EXPECT_DOUBLE_EQ(s[2], 2.92808706001649);
  EXPECT_TRUE(smooth_ema({}).empty());
}

TEST(NiceTicks, TerminatesForValuesHugeRelativeToTheirSpan) {
  // A span of a few ulps at 1e19: lo / step is past 2^53, where k += 1.0 on a double stalls.
  const double lo = 1e19, hi = std::nextafter(std::nextafter(lo, 2e19), 2e19);
  const auto ticks = nice_ticks(lo, hi);
  EXPECT_GE(ticks.size(), 2u);
  EXPECT_LE(ticks.size(), 24u);
}

TEST(RenderSvg, NearlyEqualValuesPlotAsAFlatLine) {
  LineChart chart;
  chart.title = "flat";
  chart.series.push_back({"loss", {10.0, 20.0}, {0.7313, 0.7313000000000001}});
  EXPECT_NE(render_svg(chart).find("<polyline"), std::string::npos);
}

TEST(NiceTicks, OneTwoFiveSpacing) {
  const auto t = nice_ticks(0.0, 1.0);
  ASSERT_EQ(t.size(), 6u);
  for (size_t i = 0; i < t.size(); ++i) EXPECT_NEAR(t[i], 0.2 * static_cast<double>(i), 1e-12);
  const auto s = nice_ticks(-3.0, 263.0);
  EXPECT_EQ(s, (std::vector<double>{0, 50, 100, 150, 200, 250}));
  EXPECT_THROW(nice_ticks(1.0, 1.0), Error);
}

TEST(RenderSvg, PlacesPointsInThePlotArea) {
  LineChart c;
  c.title = "a < b & c";
  c.x_label = "step";
  c.y_label = "loss";
  c.series.push_back({"original", {0, 10}, {0, 1}, "#1f77b4", 0.4});
  const std::string svg = render_svg(c);
  EXPECT_EQ(xml_problem(svg), "");
  const auto lines = polylines(svg);
  ASSERT_EQ(lines.size(), 1u);
  // x range [0, 10] and y range [0, 1] padded by 5%; plot area x 80..616, y 48..416 of 640x480.
  EXPECT_EQ(lines[0], (std::vector<std::string>{"104.36,399.27", "591.64,64.73"}));
  EXPECT_NE(svg.find(">a &lt; b &amp; c</text>"), std::string::npos);
  EXPECT_NE(svg.find("stroke-opacity=\"0.4\""), std::string::npos);
  EXPECT_NE(svg.find(">step</text>"), std::string::npos);
  EXPECT_NE(svg.find(">loss</text>"), std::string::npos);
  EXPECT_NE(svg.find(">0.0</text>"), std::string::npos);  // y tick labels with the decimals their spacing needs
  EXPECT_NE(svg.find(">0.2</text>"), std::string::npos);
}

TEST(RenderSvg, SkipsNonFinitePointsAndRejectsEmptyCharts) {
  LineChart c;
  c.series.push_back({"original", {1, 2, 3}, {1.0, std::nan(""), 0.5}, "#1f77b4", 1.0});
  EXPECT_EQ(polylines(render_svg(c))[0].size(), 2u);
  LineChart empty;
  empty.series.push_back({"original", {1}, {std::nan("")}, "#1f77b4", 1.0});
  EXPECT_THROW(render_svg(empty), Error);
  LineChart ragged;
  ragged.series.push_back({"original", {1, 2}, {1}, "#1f77b4", 1.0});
  EXPECT_THROW(render_svg(ragged), Error);
}

class PlotLoss : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tune_test_plot_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(PlotLoss, WritesOneChartPerLoggedKey) {
  LogHistory h = Json::array();
  for (int step = 10; step <= 260; step += 10) {
    h.push_back(train_log_entry(1.0 - step * 1e-4, 2.0, 1e-6, step / 260.0, step));
    h.push_back(eval_log_entry({.loss = 0.99, .accuracy = 0.55, .runtime_s = 90, .num_samples = 439, .num_steps = 110},
                               step / 260.0, step));
  }
  h.push_back(train_end_entry({.runtime_s = 100, .num_samples = 8, .num_steps = 260, .train_loss = 1.0}, 1.0, 260));

  const auto files = plot_loss(dir_, h, plot_keys("rm"));
  EXPECT_EQ(files, (std::vector<fs::path>{dir_ / "training_loss.svg", dir_ / "training_eval_loss.svg",
                                          dir_ / "training_eval_accuracy.svg"}));
  for (const auto& f : files) {
    const std::string svg = slurp(f);
    EXPECT_EQ(xml_problem(svg), "") << f;
    const auto lines = polylines(svg);
    ASSERT_EQ(lines.size(), 2u) << f;  // original + smoothed
    EXPECT_EQ(lines[0].size(), 26u) << f;
    EXPECT_EQ(lines[1].size(), 26u) << f;
    EXPECT_EQ(count(svg, ">original</text>"), 1u);
    EXPECT_EQ(count(svg, ">smoothed</text>"), 1u);
  }
  EXPECT_NE(slurp(dir_ / "training_eval_loss.svg").find(">training eval_loss of " + dir_.string() + "</text>"),
            std::string::npos);
}

// A PNG's IHDR width and height (big-endian, after the 8-byte signature and the chunk's length and type), or {0, 0}.
std::pair<uint32_t, uint32_t> png_size(const std::string& png) {
  if (png.size() < 24 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 || png.compare(12, 4, "IHDR") != 0) return {0, 0};
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(png[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

struct PngPixels {
  int width = 0, height = 0;
  size_t white = 0, dark = 0, blue = 0;  // pixels near white, near black (text, axes), and the curve's #1f77b4
};

// Decodes the PNG with cairo (an independent decoder of the bytes) and counts pixel kinds.
PngPixels decode_png(const std::string& png) {
  struct Reader {
    const std::string* bytes;
    size_t at = 0;
  } reader{&png};
  cairo_surface_t* s = cairo_image_surface_create_from_png_stream(
      [](void* closure, unsigned char* data, unsigned int length) {
        auto* r = static_cast<Reader*>(closure);
        if (r->at + length > r->bytes->size()) return CAIRO_STATUS_READ_ERROR;
        std::copy_n(r->bytes->data() + r->at, length, data);
        r->at += length;
        return CAIRO_STATUS_SUCCESS;
      },
      &reader);
  PngPixels out;
  if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) {
    out.width = cairo_image_surface_get_width(s);
    out.height = cairo_image_surface_get_height(s);
    const int stride = cairo_image_surface_get_stride(s);
    const unsigned char* data = cairo_image_surface_get_data(s);
    for (int y = 0; y < out.height; ++y)
      for (int x = 0; x < out.width; ++x) {
        uint32_t px = 0;
        std::memcpy(&px, data + static_cast<size_t>(y) * stride + static_cast<size_t>(x) * 4, 4);
        const int r = px >> 16 & 0xff, g = px >> 8 & 0xff, b = px & 0xff;
        if (r > 240 && g > 240 && b > 240) ++out.white;
        if (r < 80 && g < 80 && b < 80) ++out.dark;
        if (std::abs(r - 0x1f) < 24 && std::abs(g - 0x77) < 24 && std::abs(b - 0xb4) < 24) ++out.blue;
      }
  }
  cairo_surface_destroy(s);
  return out;
}

// LF writes training_<key>.png: each SVG has a PNG twin of the SVG's pixel size, with the curve and text drawn.
TEST_F(PlotLoss, WritesAPngBesideEachSvg) {
  LogHistory h = Json::array();
  for (int step = 1; step <= 30; ++step) h.push_back(train_log_entry(2.0 / step, 1.0, 1e-6, step / 30.0, step));
  const auto files = plot_loss(dir_, h, {"loss"});
  ASSERT_EQ(files, (std::vector<fs::path>{dir_ / "training_loss.svg"}));
  const std::string png = slurp(dir_ / "training_loss.png");
  const std::string svg = slurp(dir_ / "training_loss.svg");
  const size_t w_at = svg.find("width=\""), h_at = svg.find("height=\"");
  ASSERT_NE(w_at, std::string::npos);
  const uint32_t svg_w = std::stoul(svg.substr(w_at + 7)), svg_h = std::stoul(svg.substr(h_at + 8));
  EXPECT_EQ(png_size(png), std::make_pair(svg_w, svg_h));
  const PngPixels px = decode_png(png);
  ASSERT_EQ(px.width, static_cast<int>(svg_w));
  ASSERT_EQ(px.height, static_cast<int>(svg_h));
  const size_t total = static_cast<size_t>(px.width) * px.height;
  EXPECT_GT(px.white, total / 2);   // the white background
  EXPECT_LT(px.white, total);       // not blank
  EXPECT_GT(px.dark, 200u);         // axes, ticks and labels
  EXPECT_GT(px.blue, 300u);         // the smoothed curve
  EXPECT_FALSE(fs::exists(dir_ / "training_eval_loss.png"));
}

TEST(SvgPng, BadSvgIsAnError) {
  try {
    svg_to_png("<svg", "x.svg");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.svg: librsvg cannot read the SVG"), std::string::npos) << e.what();
  }
}

TEST_F(PlotLoss, SkipsMissingKeysAndSanitizesSlashes) {
  LogHistory h = Json::array();
  h.push_back(Json{{"rewards/accuracies", 0.5}, {"step", 1}});
  h.push_back(Json{{"rewards/accuracies", 0.75}, {"step", 2}});
  const auto files = plot_loss(dir_, h, {"loss", "rewards/accuracies"});
  EXPECT_EQ(files, (std::vector<fs::path>{dir_ / "training_rewards_accuracies.svg"}));
  EXPECT_FALSE(fs::exists(dir_ / "training_loss.svg"));
  EXPECT_EQ(plot_keys("pt"), (std::vector<std::string>{"loss", "eval_loss"}));
}

}  // namespace
}  // namespace tune
