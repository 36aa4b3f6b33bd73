// Random GGML block data of every type tune.cpp reads, for the quantized-weight tests: random quants with small
// fp16 scales, or random F32/F16/BF16 values, as a QuantMatrix over bytes the test owns.
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "core/dtype.h"
#include "kernels/cpu/quant_matmul.h"
#include "unit/grad_check.h"

namespace tune::test {

inline constexpr GgmlType kAllGgmlTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,
                                             GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                                             GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

// Byte offsets of the fp16 scale fields in one block (ggml-common.h); every other byte is a valid quant.
inline std::vector<int> f16_fields(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0: case GgmlType::Q5_0: case GgmlType::Q8_0: return {0};
    case GgmlType::Q4_1: case GgmlType::Q5_1: case GgmlType::Q4_K: case GgmlType::Q5_K: return {0, 2};
    case GgmlType::Q6_K: return {208};
    default: return {};
  }
}

// rows x cols random GGML data of type t: F32/F16/BF16 values in [-1, 1); quantized blocks with random quants and
// scales in [0.002, 0.02) (so dequantized values stay O(1)).
inline std::vector<uint8_t> random_blocks(GgmlType t, int64_t rows, int64_t cols, uint32_t seed) {
  const int64_t n = rows * cols;
  std::vector<uint8_t> bytes(static_cast<size_t>(rows * ggml_row_bytes(t, cols)));
  const std::vector<float> v = random_vec(static_cast<size_t>(n), seed);
  if (t == GgmlType::F32) {
    std::memcpy(bytes.data(), v.data(), bytes.size());
  } else if (t == GgmlType::F16 || t == GgmlType::BF16) {
    for (int64_t i = 0; i < n; ++i) {
      const uint16_t h = t == GgmlType::F16 ? f32_to_f16(v[size_t(i)]) : f32_to_bf16(v[size_t(i)]);
      std::memcpy(bytes.data() + 2 * i, &h, 2);
    }
  } else {
    const std::vector<float> u = random_vec(bytes.size(), seed + 1, 0.0, 256.0);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(u[i]);
    const GgmlTypeInfo& info = ggml_type_info(t);
    const std::vector<float> s = random_vec(bytes.size() / size_t(info.block_bytes) * 2, seed + 2, 0.002, 0.02);
    size_t k = 0;
    for (size_t b = 0; b < bytes.size(); b += size_t(info.block_bytes))
      for (const int off : f16_fields(t)) {
        const uint16_t h = f32_to_f16(s[k++]);
        std::memcpy(bytes.data() + b + off, &h, 2);
      }
  }
  return bytes;
}

// A QuantMatrix [rows, cols] of random_blocks that owns its bytes.
inline QuantMatrix random_quant_matrix(GgmlType t, int64_t rows, int64_t cols, uint32_t seed) {
  auto bytes = std::make_shared<const std::vector<uint8_t>>(random_blocks(t, rows, cols, seed));
  return make_quant_matrix(t, rows, cols, bytes->data(), int64_t(bytes->size()), bytes, "test weight");
}

}  // namespace tune::test
