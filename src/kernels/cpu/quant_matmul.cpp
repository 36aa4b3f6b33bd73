// Tile-dequantizing matmuls of a GGML-block weight (see quant_matmul.h). Every cut (tiles of W, panels of W's
// columns, blocks of x's rows) is a function of the shapes alone; the team only decides which thread runs which unit,
// so the thread count never changes a result.
#include "kernels/cpu/quant_matmul.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/dequant.h"
#include "kernels/cpu/gemm.h"

namespace tune {

QuantMatrix make_quant_matrix(GgmlType type, int64_t rows, int64_t cols, const void* bytes, int64_t nbytes,
                              std::shared_ptr<const void> owner, const char* what) {
  TUNE_CHECK(rows >= 0 && cols > 0, what, ": a quantized matrix needs rows >= 0 and cols > 0, got [", rows, ", ",
             cols, "]");
  const int64_t row_bytes = ggml_row_bytes(type, cols);
  TUNE_CHECK(nbytes == rows * row_bytes, what, ": ", nbytes, " bytes of ", ggml_type_info(type).name, " data, but [",
             rows, ", ", cols, "] needs ", rows * row_bytes);
  TUNE_CHECK(bytes != nullptr, what, ": no data");
  return QuantMatrix{.type = type, .rows = rows, .cols = cols, .row_bytes = row_bytes,
                     .data = static_cast<const uint8_t*>(bytes), .owner = std::move(owner)};
}

namespace cpu {
namespace {

constexpr int64_t kTileFloats = int64_t(1) << 15;  // fp32 scratch per thread: 128 KiB, about an L2 share
constexpr int64_t kAlign = 16;                      // tile edges: the widest SGEMM micro-tile
constexpr int64_t kPanelCols = 64;                  // backward column panels (at least one GGML block)
constexpr int64_t kMinBlockRows = 128;              // rows of x per unit when x is cut
constexpr int64_t kTargetUnits = 16;                // units a product is cut into when its shape allows

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Blocks of rows of x [N, ...]: one, or enough for kTargetUnits units with `tiles` units per block (each at least
// kMinBlockRows rows). Returns the rows per block.
int64_t block_rows(int64_t tiles, int64_t N) {
  const int64_t blocks = std::clamp(ceil_div(kTargetUnits, tiles), int64_t(1), std::max(int64_t(1), N / kMinBlockRows));
  return ceil_div(ceil_div(N, blocks), kAlign) * kAlign;
}

// This thread's dequantization scratch, at least n floats.
float* scratch(int64_t n) {
  thread_local std::vector<float> buffer;
  if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(static_cast<size_t>(n));
  return buffer.data();
}

}  // namespace

void dequantize_tile(const QuantMatrix& W, int64_t r0, int64_t r1, int64_t c0, int64_t c1, float* dst) {
  const GgmlTypeInfo& info = ggml_type_info(W.type);
  const int64_t offset = c0 / info.block_size * info.block_bytes, width = c1 - c0;
  for (int64_t r = r0; r < r1; ++r)
    dequantize_row(W.type, W.data + r * W.row_bytes + offset, dst + (r - r0) * width, width);
}

void quant_linear_forward(float* y, const float* x, const QuantMatrix& W, int N) {
  TUNE_CHECK(!W.empty(), "quant_linear_forward: the weight has no data");
  const int64_t out = W.rows, in = W.cols;
  if (N == 0 || out == 0) return;
  const int64_t tile = std::min(out, std::max(kAlign, kTileFloats / in / kAlign * kAlign));
  const int64_t tiles = ceil_div(out, tile);
  const int64_t rows = block_rows(tiles, N), blocks = ceil_div(N, rows);
  const int64_t units = tiles * blocks;
  const int parts = static_cast<int>(std::min<int64_t>(units, gemm_parts(double(N) * out * in)));
#pragma omp parallel for schedule(dynamic) num_threads(parts) if (parts > 1)
  for (int64_t u = 0; u < units; ++u) {
    const int64_t r0 = u / blocks * tile, r1 = std::min(out, r0 + tile);
    const int64_t n0 = u % blocks * rows, n1 = std::min<int64_t>(N, n0 + rows);
    float* w = scratch((r1 - r0) * in);  // [r1 - r0, in]
    dequantize_tile(W, r0, r1, 0, in, w);
    if (N == 1)  // a decode step: the matrix-vector product
      sgemv(int(r1 - r0), int(in), 1.0f, w, int(in), x, 0.0f, y + r0);
    else
      sgemm(false, true, int(n1 - n0), int(r1 - r0), int(in), 1.0f, x + n0 * in, int(in), w, int(in), 0.0f,
            y + n0 * out + r0, int(out));
  }
}

void quant_linear_backward_input(float* dx, const float* dy, const QuantMatrix& W, int N, bool accumulate) {
  TUNE_CHECK(!W.empty(), "quant_linear_backward_input: the weight has no data");
  const int64_t out = W.rows, in = W.cols;
  if (N == 0) return;
  if (out == 0) {
    if (!accumulate) std::fill_n(dx, int64_t(N) * in, 0.0f);
    return;
  }
  const int64_t block = ggml_type_info(W.type).block_size;
  const int64_t panel = std::min(in, ceil_div(kPanelCols, block) * block);
  const int64_t panels = ceil_div(in, panel);
  const int64_t tile = std::max(kAlign, kTileFloats / panel / kAlign * kAlign);  // rows of W per product
  const int64_t rows = block_rows(panels, N), blocks = ceil_div(N, rows);
  const int64_t units = panels * blocks;
  const int parts = static_cast<int>(std::min<int64_t>(units, gemm_parts(double(N) * out * in)));
#pragma omp parallel for schedule(dynamic) num_threads(parts) if (parts > 1)
  for (int64_t u = 0; u < units; ++u) {
    const int64_t c0 = u / blocks * panel, c1 = std::min(in, c0 + panel), width = c1 - c0;
    const int64_t n0 = u % blocks * rows, n1 = std::min<int64_t>(N, n0 + rows);
    float* w = scratch(tile * width);  // [tile, width]
    // dx[n0:n1, c0:c1] (+)= Σ over tiles in order of dy[n0:n1, tile rows] · W[tile rows, c0:c1]
    for (int64_t r0 = 0; r0 < out; r0 += tile) {
      const int64_t r1 = std::min(out, r0 + tile);
      dequantize_tile(W, r0, r1, c0, c1, w);
      const float beta = r0 == 0 && !accumulate ? 0.0f : 1.0f;
      sgemm(false, false, int(n1 - n0), int(width), int(r1 - r0), 1.0f, dy + n0 * out + r0, int(out), w, int(width),
            beta, dx + n0 * in + c0, int(in));
    }
  }
}

}  // namespace cpu
}  // namespace tune
