// GGML tensor types as GGUF files number them: block size, bytes per block, name. Only the types tune.cpp reads.
#pragma once
#include <cstdint>
#include <string_view>

namespace tune {

// Values are the ggml_type numbers stored in a GGUF tensor info.
enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  BF16 = 30,
};

struct GgmlTypeInfo {
  GgmlType type;
  std::string_view name;  // "Q4_K", as ggml and the gguf package name it
  int64_t block_size;     // elements per block (1 for F32/F16/BF16, 32, or 256 for the K-quants)
  int64_t block_bytes;    // bytes per block
};

// The info of a supported type; nullptr for any other number (a GGUF with it is refused by the reader).
const GgmlTypeInfo* ggml_type_info(uint32_t type);
const GgmlTypeInfo& ggml_type_info(GgmlType type);
bool ggml_type_is_quantized(GgmlType type);  // anything but F32/F16/BF16
// The name ggml gives any type number, supported or not ("IQ2_XXS" for 16), for error messages; "" when unknown.
std::string_view ggml_type_name(uint32_t type);
// "F32, F16, BF16, Q4_0, ...": the supported types, for error messages.
std::string_view ggml_supported_type_names();
// Bytes of a row of n elements; n must be a multiple of the block size (tune::Error otherwise).
int64_t ggml_row_bytes(GgmlType type, int64_t n);

}  // namespace tune
