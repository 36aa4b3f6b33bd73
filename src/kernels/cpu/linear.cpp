// CPU nn.Linear matmuls (forward, input grad, weight grad) through cpu::sgemm (cpu::sgemv for a single row).
#include <algorithm>
#include <cstdint>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/ops.h"

namespace tune::cpu {

void linear_forward(float* y, const float* x, const float* w, int N, int in, int out, float alpha, bool accumulate) {
  if (N == 0 || out == 0) return;
  if (in == 0) {
    if (!accumulate) std::fill_n(y, int64_t(N) * out, 0.0f);
    return;
  }
  if (N == 1) {  // one row (a decode step): the matrix-vector product, several times faster than a 1-row GEMM
    sgemv(out, in, alpha, w, in, x, accumulate ? 1.0f : 0.0f, y);
    return;
  }
  sgemm(false, true, N, out, in, alpha, x, in, w, in, accumulate ? 1.0f : 0.0f, y, out);
}

void linear_backward_input(float* dx, const float* dy, const float* w, int N, int in, int out, float alpha,
                           bool accumulate) {
  if (N == 0 || in == 0) return;
  if (out == 0) {
    if (!accumulate) std::fill_n(dx, int64_t(N) * in, 0.0f);
    return;
  }
  sgemm(false, false, N, in, out, alpha, dy, out, w, in, accumulate ? 1.0f : 0.0f, dx, in);
}

void linear_backward_weight(float* dw, const float* dy, const float* x, int N, int in, int out, float alpha) {
  if (N == 0 || in == 0 || out == 0) return;
  sgemm(true, false, out, in, N, alpha, dy, out, x, in, 1.0f, dw, in);
}

}  // namespace tune::cpu
