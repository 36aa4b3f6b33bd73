// AdamW as torch.optim.AdamW computes it (single-tensor path, fp32 params and state), with a checkpointable state.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/plan.h"
#include "core/tensor.h"
#include "io/safetensors.h"
#include "train/params.h"

namespace tune {

struct AdamWOptions {  // HF TrainingArguments defaults
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // applied to params with decay == true; the others use 0 (HF's two param groups)
};

// adam_beta1, adam_beta2, adam_epsilon, weight_decay from the plan.
AdamWOptions adamw_options(const Plan& plan);

struct AdamWState {
  int64_t step = 0;                // updates applied (torch keeps one fp32 `step` per param; all are equal here)
  std::vector<Tensor> exp_avg;     // m, one per param, the param's shape
  std::vector<Tensor> exp_avg_sq;  // v, one per param, the param's shape
};

class AdamW {
 public:
  // State starts at step 0 with m = v = 0. Throws tune::Error for betas outside [0, 1), eps < 0 or weight_decay < 0.
  AdamW(std::vector<ParamRef> params, AdamWOptions options);

  // One update of every param from its grad, with learning rate lr (the scheduler's value for this update). Per
  // element, in torch's order and rounding (scalars are Python doubles, rounded to fp32 where torch does):
  //   t += 1;  θ *= fp32(1 − lr·λ) (only when λ ≠ 0);  m = lerp(m, g, 1 − β1) (fused multiply-add, as torch's CPU
  //   kernel);  v = fma(fp32(1 − β2)·g, g, v·fp32(β2));  step_size = lr / (1 − β1^t);
  //   denom = sqrt(v) / fp32((1 − β2^t)^0.5) + fp32(eps);  θ = θ + (fp32(−step_size)·m) / denom.
  // With lr = 0 θ is unchanged but t, m and v still advance (HF's first update under warmup).
  void step(double lr);

  const std::vector<ParamRef>& params() const { return params_; }
  const AdamWOptions& options() const { return options_; }
  const AdamWState& state() const { return state_; }

  // Checkpoint form: F32 tensors "<param name>.exp_avg" and "<param name>.exp_avg_sq" (pointing into this object)
  // plus safetensors metadata {"format": "pt", "step": "<t>"}.
  std::vector<NamedTensor> state_tensors() const;
  std::map<std::string, std::string> state_metadata() const;
  // Restores the state from a file written with state_tensors()/state_metadata(). A missing or misshaped tensor or a
  // bad "step" is a tune::Error naming the file and the key (the checkpoint does not belong to these params).
  void load_state(const SafetensorsFile& file);

 private:
  std::vector<ParamRef> params_;
  AdamWOptions options_;
  AdamWState state_;
};

}  // namespace tune
