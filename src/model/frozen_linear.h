// A frozen base nn.Linear weight W [out, in]: dense fp32 (loaded, merged, saved and random-initialised like every
// weight), or kept as the GGML blocks of a GGUF file and multiplied a dequantized tile at a time
// (kernels/cpu/quant_matmul.h). Its products: y = x·Wᵀ and dx = dy·W (a frozen weight gets no gradient).
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "kernels/cpu/quant_matmul.h"

namespace tune {

struct FrozenLinear {
  Tensor dense;       // [out, in] fp32; empty when kept quantized
  QuantMatrix quant;  // [out, in] GGML blocks; empty when dense

  bool quantized() const { return !quant.empty(); }
  int64_t out() const { return quantized() ? quant.rows : dense.dim(0); }
  int64_t in() const { return quantized() ? quant.cols : dense.dim(1); }
};

// y[N, out] = x[N, in] · Wᵀ
void frozen_linear_forward(float* y, const float* x, const FrozenLinear& W, int N);

// dx[N, in] (= or += when accumulate) dy[N, out] · W
void frozen_linear_backward_input(float* dx, const float* dy, const FrozenLinear& W, int N, bool accumulate);

// W as fp32 [out, in]: the dense tensor, or the blocks dequantized (bit-equal to gguf.quants.dequantize).
Tensor dequantized(const FrozenLinear& W);

}  // namespace tune
