// Dynamic fp16 loss scaling with torch.amp.GradScaler semantics (scale, unscale + inf check, skip, grow/back off).
#pragma once
#include <cstdint>
#include <vector>

#include "train/params.h"

namespace tune {

struct LossScalerOptions {  // GradScaler defaults
  float init_scale = 65536.0f;  // 2^16
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int growth_interval = 2000;
};

struct LossScalerState {  // what a checkpoint keeps (GradScaler.state_dict: scale, _growth_tracker)
  float scale = 65536.0f;
  int32_t growth_tracker = 0;  // consecutive clean updates since the last growth or backoff
};

// Per optimizer update: backward on loss · scale(); unscale(params) (returns found_inf); clip; step the optimizer only
// when !found_inf (and then step the lr scheduler, as HF 4.38 does); update(found_inf).
class LossScaler {
 public:
  // Throws tune::Error for init_scale <= 0, growth_factor <= 1, backoff_factor outside (0, 1), growth_interval < 1.
  explicit LossScaler(LossScalerOptions options = {});

  float scale() const { return state_.scale; }
  // Multiplies every grad by fp32(1 / scale) (reciprocal in double, as GradScaler), all of them even after a
  // non-finite value; returns true when any grad element is inf or NaN.
  bool unscale(const std::vector<ParamRef>& params) const;
  // torch._amp_update_scale_: found_inf → scale · backoff, tracker 0; else tracker + 1, and when it reaches
  // growth_interval: scale · growth (kept only if finite in fp32), tracker 0.
  void update(bool found_inf);

  const LossScalerState& state() const { return state_; }
  // Restores a saved state; a scale that is not finite and > 0 or a negative tracker is a tune::Error.
  void load_state(const LossScalerState& state);

 private:
  LossScalerOptions options_;
  LossScalerState state_;
};

}  // namespace tune
