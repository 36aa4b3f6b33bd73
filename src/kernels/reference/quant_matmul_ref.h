// Scalar reference for the quantized-weight matmuls (the oracle for cpu/quant_matmul.cpp): the whole of W
// dequantized by cpu::dequantize_row (bit-equal to the gguf package), then the reference nn.Linear loops.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/cpu/dequant.h"
#include "kernels/cpu/quant_matmul.h"
#include "kernels/reference/linear_ref.h"

namespace tune::ref {

// W [rows, cols] in T.
template <class T>
std::vector<T> dequantize_matrix(const QuantMatrix& W) {
  std::vector<float> row(static_cast<size_t>(W.cols));
  std::vector<T> out(static_cast<size_t>(W.rows * W.cols));
  for (int64_t r = 0; r < W.rows; ++r) {
    cpu::dequantize_row(W.type, W.data + r * W.row_bytes, row.data(), W.cols);
    for (int64_t c = 0; c < W.cols; ++c) out[static_cast<size_t>(r * W.cols + c)] = T(row[static_cast<size_t>(c)]);
  }
  return out;
}

// y[N, out] = x[N, in] . W^T
template <class T>
void quant_linear_forward(T* y, const T* x, const QuantMatrix& W, int N) {
  const std::vector<T> w = dequantize_matrix<T>(W);
  linear_forward(y, x, w.data(), N, int(W.cols), int(W.rows), T(1), false);
}

// dx[N, in] (= or += when accumulate) dy[N, out] . W
template <class T>
void quant_linear_backward_input(T* dx, const T* dy, const QuantMatrix& W, int N, bool accumulate) {
  const std::vector<T> w = dequantize_matrix<T>(W);
  linear_backward_input(dx, dy, w.data(), N, int(W.cols), int(W.rows), T(1), accumulate);
}

}  // namespace tune::ref
