// GradScaler's unscale/inf-check kernel and _amp_update_scale_ rule on fp32 host gradients.
#include "train/loss_scaler.h"

#include <cmath>

#include "core/error.h"

namespace tune {

LossScaler::LossScaler(LossScalerOptions options) : options_(options) {
  TUNE_CHECK(std::isfinite(options_.init_scale) && options_.init_scale > 0.0f,
             "loss scaler: init_scale must be finite and > 0, got ", options_.init_scale);
  TUNE_CHECK(options_.growth_factor > 1.0, "loss scaler: growth_factor must be > 1, got ", options_.growth_factor);
  TUNE_CHECK(options_.backoff_factor > 0.0 && options_.backoff_factor < 1.0,
             "loss scaler: backoff_factor must be in (0, 1), got ", options_.backoff_factor);
  TUNE_CHECK(options_.growth_interval >= 1, "loss scaler: growth_interval must be >= 1, got ",
             options_.growth_interval);
  state_.scale = options_.init_scale;
}

bool LossScaler::unscale(const std::vector<ParamRef>& params) const {
  const float inv_scale = static_cast<float>(1.0 / static_cast<double>(state_.scale));
  bool found_inf = false;
  for (const ParamRef& p : params) {
    float* g = p.grad->ptr();
    const int64_t n = p.grad->numel();
    bool tensor_inf = false;
#pragma omp parallel for reduction(|| : tensor_inf) schedule(static) if (n > (1 << 16))
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(g[i])) tensor_inf = true;
      g[i] = g[i] * inv_scale;
    }
    found_inf = found_inf || tensor_inf;
  }
  return found_inf;
}

void LossScaler::update(bool found_inf) {
  if (found_inf) {
    state_.scale = static_cast<float>(static_cast<double>(state_.scale) * options_.backoff_factor);
    state_.growth_tracker = 0;
    return;
  }
  const int32_t successful = state_.growth_tracker + 1;
  if (successful == options_.growth_interval) {
    const float grown = static_cast<float>(static_cast<double>(state_.scale) * options_.growth_factor);
    if (std::isfinite(grown)) state_.scale = grown;
    state_.growth_tracker = 0;
  } else {
    state_.growth_tracker = successful;
  }
}

void LossScaler::load_state(const LossScalerState& state) {
  TUNE_CHECK(std::isfinite(state.scale) && state.scale > 0.0f, "loss scaler state: scale must be finite and > 0, got ",
             state.scale, "; the checkpoint's scaler state is corrupt");
  TUNE_CHECK(state.growth_tracker >= 0, "loss scaler state: growth_tracker must be >= 0, got ", state.growth_tracker,
             "; the checkpoint's scaler state is corrupt");
  state_ = state;
}

}  // namespace tune
