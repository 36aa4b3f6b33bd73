// Matmuls with a frozen weight kept as GGML blocks (a quantized GGUF tensor, read in place from the mapping): a tile
// of W is dequantized into fp32 scratch at a time and multiplied with cpu::sgemm, so W never exists in fp32 whole.
// Only y = x·Wᵀ and dx = dy·W: a frozen weight gets no gradient.
#pragma once
#include <cstdint>
#include <memory>

#include "io/ggml_type.h"

namespace tune {

// W [rows = out, cols = in] as row-major GGML blocks: row o is row_bytes bytes at data + o * row_bytes.
struct QuantMatrix {
  GgmlType type = GgmlType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t row_bytes = 0;              // ggml_row_bytes(type, cols)
  const uint8_t* data = nullptr;      // rows * row_bytes bytes
  std::shared_ptr<const void> owner;  // keeps `data` alive (GgufFile::mapping())

  bool empty() const { return data == nullptr; }
  int64_t bytes() const { return rows * row_bytes; }
};

// A QuantMatrix over `bytes` (which must be exactly rows * ggml_row_bytes(type, cols)); tune::Error naming `what`
// otherwise.
QuantMatrix make_quant_matrix(GgmlType type, int64_t rows, int64_t cols, const void* bytes, int64_t nbytes,
                              std::shared_ptr<const void> owner, const char* what);

namespace cpu {

// y[N, out] = x[N, in] · Wᵀ. Tiles of whole rows of W (a fixed cut by shape) are dequantized and multiplied; the
// tiles (and, with fewer tiles than threads, blocks of rows of x) run on tune's team, one thread per output element.
void quant_linear_forward(float* y, const float* x, const QuantMatrix& W, int N);

// dx[N, in] (= or += when accumulate) dy[N, out] · W. Column panels of W (whole GGML blocks, a fixed cut by shape)
// run in parallel; each sums its tiles of rows in a fixed order, so the thread count never changes a result.
void quant_linear_backward_input(float* dx, const float* dy, const QuantMatrix& W, int N, bool accumulate);

// W[r0 .. r1) x [c0 .. c1) dequantized into dst [r1 - r0, c1 - c0]; c0 and c1 are multiples of the block size (or
// c1 = cols).
void dequantize_tile(const QuantMatrix& W, int64_t r0, int64_t r1, int64_t c0, int64_t c1, float* dst);

}  // namespace cpu
}  // namespace tune
