// dtype names and sizes, and the bit-exact conversions between fp32 and every safetensors element type.
//
// Rounding rules (fp32 -> narrower type):
//   BF16, F16   round to nearest, ties to even; NaN stays NaN (quiet bit set, top payload bits kept, sign kept);
//               finite values that round past the largest finite value become +-Inf; F16 subnormals are exact and
//               magnitudes at or below half the smallest subnormal (2^-25) become a signed zero.
//   F8_E5M2     same IEEE-style rules as F16 (it has Inf): overflow -> +-Inf, NaN -> 0x7f | sign.
//   F8_E4M3     the "fn" variant (no Inf, largest finite 448, NaN = 0x7f / 0xff). Round to nearest even and
//               saturate like torch 2.x's `tensor.to(torch.float8_e4m3fn)` (checked against torch 2.15 on 2.2M
//               values): any |x| that rounds above 448, and +-Inf, become +-448; NaN becomes 0x7f | sign.
//   F64         static_cast (round to nearest even).
//   integers    truncate toward zero (static_cast semantics), saturate at the type's min/max, NaN -> 0.
//   BOOL        1 when x != 0 (NaN included, like torch's bool()), else 0.
// Widening to fp32 is exact for BF16/F16/F8 (NaN payload bits are kept, not quieted), static_cast for F64 and the
// 32/64-bit integers (round to nearest even), and any nonzero BOOL byte reads as 1.
#include "core/dtype.h"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace tune {
namespace {

struct DTypeInfo {
  DType type;
  std::string_view name;
  size_t size;
  bool is_float;
};

constexpr std::array<DTypeInfo, 15> kDTypes = {{
    {DType::BOOL, "BOOL", 1, false},
    {DType::U8, "U8", 1, false},
    {DType::I8, "I8", 1, false},
    {DType::I16, "I16", 2, false},
    {DType::U16, "U16", 2, false},
    {DType::F16, "F16", 2, true},
    {DType::BF16, "BF16", 2, true},
    {DType::I32, "I32", 4, false},
    {DType::U32, "U32", 4, false},
    {DType::F32, "F32", 4, true},
    {DType::F64, "F64", 8, true},
    {DType::I64, "I64", 8, false},
    {DType::U64, "U64", 8, false},
    {DType::F8_E4M3, "F8_E4M3", 1, true},
    {DType::F8_E5M2, "F8_E5M2", 1, true},
}};

const DTypeInfo& info(DType t) {
  for (const DTypeInfo& d : kDTypes)
    if (d.type == t) return d;
  fail("unknown dtype enum value ", static_cast<int>(t));
}

uint32_t f32_bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}

float bits_f32(uint32_t b) {
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}

constexpr uint32_t kF32Inf = 0x7F800000u;

// Rounds a finite, non-negative fp32 (given as bits) to a small binary float with `man_bits` mantissa bits and
// exponent `bias`, ties to even. Returns the magnitude code (exponent << man_bits | mantissa) with no upper clamp:
// a code at or past the format's Inf/NaN encodings means the value overflowed, and the caller decides what that is.
uint32_t round_to_small_float(uint32_t abs_bits, int man_bits, int bias) {
  const int e = static_cast<int>(abs_bits >> 23);  // biased fp32 exponent, 0..254
  const uint32_t m = abs_bits & 0x7FFFFFu;
  const int min_normal_e = 128 - bias;  // fp32 biased exponent of the target's smallest normal
  if (e >= min_normal_e) {
    const int drop = 23 - man_bits;
    uint32_t code = (static_cast<uint32_t>(e - min_normal_e + 1) << man_bits) | (m >> drop);
    const uint32_t rem = m & ((1u << drop) - 1), half = 1u << (drop - 1);
    if (rem > half || (rem == half && (code & 1u))) ++code;  // a carry into the exponent is still correct
    return code;
  }
  if (e == 0) return 0;  // fp32 zero/subnormal: far below every target's smallest subnormal
  // Target subnormal: count units of 2^(1 - bias - man_bits). value = (m | 2^23) * 2^(e - 150).
  const uint32_t full = m | 0x800000u;
  const int shift = 151 - bias - man_bits - e;  // >= 24 - man_bits >= 1 here
  if (shift > 24) return 0;                     // below half the smallest subnormal
  uint32_t q = full >> shift;
  const uint32_t rem = full & ((1u << shift) - 1), half = 1u << (shift - 1);
  if (rem > half || (rem == half && (q & 1u))) ++q;  // may round up into the smallest normal: correct code
  return q;
}

// Decodes a finite small-float magnitude code exactly.
float decode_small_float(uint32_t code, int man_bits, int bias) {
  const uint32_t exp = code >> man_bits, mant = code & ((1u << man_bits) - 1);
  if (exp == 0) return std::ldexp(static_cast<float>(mant), 1 - bias - man_bits);
  return std::ldexp(static_cast<float>(mant | (1u << man_bits)), static_cast<int>(exp) - bias - man_bits);
}

uint8_t f32_to_e4m3(float x) {
  const uint32_t b = f32_bits(x);
  const uint8_t sign = static_cast<uint8_t>((b >> 24) & 0x80u);
  const uint32_t abs = b & 0x7FFFFFFFu;
  if (abs > kF32Inf) return sign | 0x7F;
  if (abs == kF32Inf) return sign | 0x7E;
  const uint32_t code = round_to_small_float(abs, 3, 7);
  return sign | static_cast<uint8_t>(code > 0x7E ? 0x7E : code);
}

uint8_t f32_to_e5m2(float x) {
  const uint32_t b = f32_bits(x);
  const uint8_t sign = static_cast<uint8_t>((b >> 24) & 0x80u);
  const uint32_t abs = b & 0x7FFFFFFFu;
  if (abs > kF32Inf) return sign | 0x7F;
  if (abs == kF32Inf) return sign | 0x7C;
  const uint32_t code = round_to_small_float(abs, 2, 15);
  return sign | static_cast<uint8_t>(code >= 0x7C ? 0x7C : code);
}

std::array<float, 256> make_e4m3_table() {
  std::array<float, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    const uint32_t mag = i & 0x7F;
    const float v = mag == 0x7F ? std::numeric_limits<float>::quiet_NaN() : decode_small_float(mag, 3, 7);
    t[i] = (i & 0x80) ? -v : v;
  }
  return t;
}

std::array<float, 256> make_e5m2_table() {
  std::array<float, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    const uint32_t mag = i & 0x7F;
    float v;
    if (mag == 0x7C)
      v = std::numeric_limits<float>::infinity();
    else if (mag > 0x7C)
      v = std::numeric_limits<float>::quiet_NaN();
    else
      v = decode_small_float(mag, 2, 15);
    t[i] = (i & 0x80) ? -v : v;
  }
  return t;
}

// Function-local statics: safe to use from other translation units' static initialisers.
const std::array<float, 256>& e4m3_table() {
  static const std::array<float, 256> t = make_e4m3_table();
  return t;
}

const std::array<float, 256>& e5m2_table() {
  static const std::array<float, 256> t = make_e5m2_table();
  return t;
}

template <class T>
T load(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <class T>
void store(unsigned char* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

template <class T>
void ints_to_f32(const unsigned char* s, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(load<T>(s + i * sizeof(T)));
}

// Truncates toward zero and saturates; NaN -> 0 (static_cast alone is undefined out of range).
template <class T>
T f32_to_int(float x) {
  if (std::isnan(x)) return 0;
  const double v = std::trunc(static_cast<double>(x));
  if (v <= static_cast<double>(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
  // 2^64 and 2^63 are exact doubles; every float below them converts without overflow.
  if (v >= std::ldexp(1.0, std::numeric_limits<T>::digits)) return std::numeric_limits<T>::max();
  return static_cast<T>(v);
}

template <class T>
void f32_to_ints(const float* src, unsigned char* d, size_t n) {
  for (size_t i = 0; i < n; ++i) store<T>(d + i * sizeof(T), f32_to_int<T>(src[i]));
}

}  // namespace

std::string_view dtype_name(DType t) { return info(t).name; }

std::optional<DType> dtype_from_name(std::string_view s) {
  for (const DTypeInfo& d : kDTypes)
    if (d.name == s) return d.type;
  return std::nullopt;
}

size_t dtype_size(DType t) { return info(t).size; }

bool dtype_is_float(DType t) { return info(t).is_float; }

float bf16_to_f32(uint16_t bits) { return bits_f32(static_cast<uint32_t>(bits) << 16); }

uint16_t f32_to_bf16(float x) {
  const uint32_t b = f32_bits(x);
  if ((b & 0x7FFFFFFFu) > kF32Inf) return static_cast<uint16_t>((b >> 16) | 0x0040u);
  // Adding 0x7FFF plus the kept LSB rounds to nearest even; a carry out of the exponent yields Inf.
  return static_cast<uint16_t>((b + 0x7FFFu + ((b >> 16) & 1u)) >> 16);
}

float f16_to_f32(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exp = (bits >> 10) & 0x1Fu, mant = bits & 0x3FFu;
  if (exp == 0x1F) return bits_f32(sign | kF32Inf | (mant << 13));  // Inf, or NaN with its payload
  if (exp == 0) {
    const float mag = std::ldexp(static_cast<float>(mant), -24);  // zero or subnormal, exact
    return sign ? -mag : mag;
  }
  return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t f32_to_f16(float x) {
  const uint32_t b = f32_bits(x);
  const uint16_t sign = static_cast<uint16_t>((b >> 16) & 0x8000u);
  const uint32_t abs = b & 0x7FFFFFFFu;
  if (abs > kF32Inf) return sign | 0x7E00u | static_cast<uint16_t>((abs >> 13) & 0x3FFu);
  if (abs == kF32Inf) return sign | 0x7C00u;
  const uint32_t code = round_to_small_float(abs, 10, 15);
  return sign | static_cast<uint16_t>(code >= 0x7C00u ? 0x7C00u : code);
}

void convert_to_f32(DType src_type, const void* src, float* dst, size_t n) {
  if (n == 0) return;  // empty tensors may pass null pointers, which memcpy must not see
  const auto* s = static_cast<const unsigned char*>(src);
  switch (src_type) {
    case DType::F32: std::memcpy(dst, s, n * 4); return;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(load<uint16_t>(s + 2 * i));
      return;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) dst[i] = f16_to_f32(load<uint16_t>(s + 2 * i));
      return;
    case DType::F64: ints_to_f32<double>(s, dst, n); return;
    case DType::F8_E4M3: {
      const std::array<float, 256>& t = e4m3_table();
      for (size_t i = 0; i < n; ++i) dst[i] = t[s[i]];
      return;
    }
    case DType::F8_E5M2: {
      const std::array<float, 256>& t = e5m2_table();
      for (size_t i = 0; i < n; ++i) dst[i] = t[s[i]];
      return;
    }
    case DType::BOOL:
      for (size_t i = 0; i < n; ++i) dst[i] = s[i] ? 1.0f : 0.0f;
      return;
    case DType::U8: ints_to_f32<uint8_t>(s, dst, n); return;
    case DType::I8: ints_to_f32<int8_t>(s, dst, n); return;
    case DType::I16: ints_to_f32<int16_t>(s, dst, n); return;
    case DType::U16: ints_to_f32<uint16_t>(s, dst, n); return;
    case DType::I32: ints_to_f32<int32_t>(s, dst, n); return;
    case DType::U32: ints_to_f32<uint32_t>(s, dst, n); return;
    case DType::I64: ints_to_f32<int64_t>(s, dst, n); return;
    case DType::U64: ints_to_f32<uint64_t>(s, dst, n); return;
  }
  fail("convert_to_f32: unknown dtype enum value ", static_cast<int>(src_type));
}

void convert_from_f32(DType dst_type, const float* src, void* dst, size_t n) {
  if (n == 0) return;
  auto* d = static_cast<unsigned char*>(dst);
  switch (dst_type) {
    case DType::F32: std::memcpy(d, src, n * 4); return;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) store<uint16_t>(d + 2 * i, f32_to_bf16(src[i]));
      return;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) store<uint16_t>(d + 2 * i, f32_to_f16(src[i]));
      return;
    case DType::F64:
      for (size_t i = 0; i < n; ++i) store<double>(d + 8 * i, static_cast<double>(src[i]));
      return;
    case DType::F8_E4M3:
      for (size_t i = 0; i < n; ++i) d[i] = f32_to_e4m3(src[i]);
      return;
    case DType::F8_E5M2:
      for (size_t i = 0; i < n; ++i) d[i] = f32_to_e5m2(src[i]);
      return;
    case DType::BOOL:
      for (size_t i = 0; i < n; ++i) d[i] = src[i] != 0.0f ? 1 : 0;
      return;
    case DType::U8: f32_to_ints<uint8_t>(src, d, n); return;
    case DType::I8: f32_to_ints<int8_t>(src, d, n); return;
    case DType::I16: f32_to_ints<int16_t>(src, d, n); return;
    case DType::U16: f32_to_ints<uint16_t>(src, d, n); return;
    case DType::I32: f32_to_ints<int32_t>(src, d, n); return;
    case DType::U32: f32_to_ints<uint32_t>(src, d, n); return;
    case DType::I64: f32_to_ints<int64_t>(src, d, n); return;
    case DType::U64: f32_to_ints<uint64_t>(src, d, n); return;
  }
  fail("convert_from_f32: unknown dtype enum value ", static_cast<int>(dst_type));
}

}  // namespace tune
