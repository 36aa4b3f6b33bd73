// Global-norm gradient clipping as torch.nn.utils.clip_grad_norm_ does it (what HF Trainer logs as grad_norm).
#pragma once
#include <vector>

#include "train/params.h"

namespace tune {

// The 2-norm of one gradient tensor as an fp32 value (torch computes per-tensor norms in the grad's dtype). The sum of
// squares is accumulated in double, so it may differ from torch's fp32 SIMD reduction in the last bit.
float grad_norm_f32(const Tensor& grad);

// total = ‖[‖g_1‖, …, ‖g_n‖]‖ over the params in order (per-tensor norms fp32, then the norm of that fp32 vector).
// With max_norm > 0 every grad is multiplied by coef = min(fp32(max_norm) / (total + fp32(1e-6)), 1) computed in fp32,
// unconditionally (coef 1 leaves grads unchanged; a non-finite total makes every grad non-finite, as in torch).
// With max_norm <= 0 the grads are left alone. Returns the pre-clip total either way (HF 4.38 skips clipping, and
// logs no grad_norm, when max_grad_norm <= 0; the caller decides whether to report it).
float clip_grad_norm(const std::vector<ParamRef>& params, double max_norm);

}  // namespace tune
