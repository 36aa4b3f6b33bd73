// Dequantization of GGML blocks to fp32, bit-equal to the gguf package's gguf.quants.dequantize (numpy fp32 math).
#pragma once
#include <cstdint>

#include "io/ggml_type.h"

namespace tune::cpu {

// dst[n] = the n elements stored in src (ggml_row_bytes(type, n) bytes). n is a multiple of the block size.
void dequantize_row(GgmlType type, const uint8_t* src, float* dst, int64_t n);

}  // namespace tune::cpu
