// LLaMA-Factory's plot_loss as SVG and PNG: training_<key>.svg and .png per logged metric, the raw curve plus its
// smoothed curve.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "report/log_history.h"

namespace tune {

// LF extras/ploting.py smooth(): TensorBoard-style EMA starting at values[0] with
// weight = 1.8 * (sigmoid(0.05 * N) - 0.5), N = values.size(); s_i = s_{i-1} * weight + (1 - weight) * v_i.
std::vector<double> smooth_ema(const std::vector<double>& values);

// The keys LF HEAD plots for a stage: rm and sft {loss, eval_loss, eval_accuracy}; pt {loss, eval_loss}.
std::vector<std::string> plot_keys(const std::string& stage);

// For each key, every history entry holding it gives a point (step, value); non-finite values are left out. Writes
// <dir>/training_<key with '/' -> '_'>.svg (atomically) with the "original" curve (alpha 0.4) and the "smoothed" one,
// title "training <key> of <dir>", x label "step", y label <key>, like LF's PNGs, and beside it the same chart as
// training_<key>.png (svg_to_png, atomically). Keys without points are skipped, as LF does (it warns). Returns the
// SVG files written (each has its .png twin).
std::vector<std::filesystem::path> plot_loss(const std::filesystem::path& dir, const LogHistory& log_history,
                                             const std::vector<std::string>& keys);

}  // namespace tune
