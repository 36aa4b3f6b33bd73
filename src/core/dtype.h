// Element types as safetensors names them, and exact conversions between fp32 and bf16/fp16/fp8.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tune {

enum class DType { BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64, F8_E4M3, F8_E5M2 };

std::string_view dtype_name(DType t);                      // "BF16"
std::optional<DType> dtype_from_name(std::string_view s);  // nullopt for unknown names
size_t dtype_size(DType t);                                // bytes per element
bool dtype_is_float(DType t);

// Scalar conversions. f32 -> half types round to nearest, ties to even; NaN stays NaN; overflow gives Inf.
float bf16_to_f32(uint16_t bits);
uint16_t f32_to_bf16(float x);
float f16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float x);

// Bulk conversions between any numeric dtype and fp32 (little-endian source/destination bytes).
void convert_to_f32(DType src_type, const void* src, float* dst, size_t n);
void convert_from_f32(DType dst_type, const float* src, void* dst, size_t n);

}  // namespace tune
