// Products of a frozen linear weight, dense or kept quantized (see frozen_linear.h).
#include "model/frozen_linear.h"

#include "kernels/cpu/ops.h"

namespace tune {

void frozen_linear_forward(float* y, const float* x, const FrozenLinear& W, int N) {
  if (W.quantized()) return cpu::quant_linear_forward(y, x, W.quant, N);
  cpu::linear_forward(y, x, W.dense.ptr(), N, static_cast<int>(W.in()), static_cast<int>(W.out()), 1.0f, false);
}

void frozen_linear_backward_input(float* dx, const float* dy, const FrozenLinear& W, int N, bool accumulate) {
  if (W.quantized()) return cpu::quant_linear_backward_input(dx, dy, W.quant, N, accumulate);
  cpu::linear_backward_input(dx, dy, W.dense.ptr(), N, static_cast<int>(W.in()), static_cast<int>(W.out()), 1.0f,
                             accumulate);
}

Tensor dequantized(const FrozenLinear& W) {
  if (!W.quantized()) return W.dense;
  Tensor t({W.quant.rows, W.quant.cols});
  cpu::dequantize_tile(W.quant, 0, W.quant.rows, 0, W.quant.cols, t.ptr());
  return t;
}

}  // namespace tune
