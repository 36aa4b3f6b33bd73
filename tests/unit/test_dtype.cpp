// Tests for dtype names/sizes and the bit-exact fp32 <-> bf16/f16/fp8/int conversions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/dtype.h"

namespace tune {
namespace {

float from_bits(uint32_t b) {
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}

uint32_t to_bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}

TEST(DType, NamesSizesAndLookup) {
  const std::vector<std::pair<DType, size_t>> all = {
      {DType::BOOL, 1}, {DType::U8, 1},  {DType::I8, 1},   {DType::I16, 2},     {DType::U16, 2},
      {DType::F16, 2},  {DType::BF16, 2}, {DType::I32, 4}, {DType::U32, 4},     {DType::F32, 4},
      {DType::F64, 8},  {DType::I64, 8},  {DType::U64, 8}, {DType::F8_E4M3, 1}, {DType::F8_E5M2, 1}};
  for (const auto& [t, size] : all) {
    EXPECT_EQ(dtype_size(t), size) << dtype_name(t);
    EXPECT_EQ(dtype_from_name(dtype_name(t)), t);
  }
  EXPECT_EQ(dtype_name(DType::BF16), "BF16");
  EXPECT_EQ(dtype_name(DType::F8_E4M3), "F8_E4M3");
  EXPECT_FALSE(dtype_from_name("bf16"));
  EXPECT_FALSE(dtype_from_name("F8_E8M0"));
  EXPECT_TRUE(dtype_is_float(DType::BF16));
  EXPECT_TRUE(dtype_is_float(DType::F8_E5M2));
  EXPECT_FALSE(dtype_is_float(DType::I64));
  EXPECT_FALSE(dtype_is_float(DType::BOOL));
}

TEST(DType, Bf16KnownValues) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(f32_to_bf16(-2.5f), 0xC020);
  EXPECT_EQ(f32_to_bf16(0.0f), 0x0000);
  EXPECT_EQ(f32_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(bf16_to_f32(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0xC020), -2.5f);
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(f32_to_bf16(-std::numeric_limits<float>::infinity()), 0xFF80);
  // Largest finite fp32 rounds past bf16's max (0x7F7F) to Inf.
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::max()), 0x7F80);
  EXPECT_EQ(f32_to_bf16(from_bits(0x7F7F7FFF)), 0x7F7F);  // just below the halfway point: stays finite
}

TEST(DType, Bf16TiesToEven) {
  EXPECT_EQ(f32_to_bf16(from_bits(0x3F808000)), 0x3F80);  // tie, even below -> down
  EXPECT_EQ(f32_to_bf16(from_bits(0x3F818000)), 0x3F82);  // tie, odd below -> up
  EXPECT_EQ(f32_to_bf16(from_bits(0x3F808001)), 0x3F81);  // above the tie -> up
  EXPECT_EQ(f32_to_bf16(from_bits(0x3F807FFF)), 0x3F80);  // below the tie -> down
  EXPECT_EQ(f32_to_bf16(from_bits(0xBF818000)), 0xBF82);  // negative tie, odd -> away from zero
  EXPECT_EQ(f32_to_bf16(from_bits(0x3F7F8000)), 0x3F80);  // tie with odd mantissa carries into the exponent
}

TEST(DType, Bf16NaN) {
  const uint16_t q = f32_to_bf16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(q & 0x7F80, 0x7F80);
  EXPECT_NE(q & 0x007F, 0);
  // A NaN whose payload lives only in the low 16 bits must not truncate to Inf.
  EXPECT_EQ(f32_to_bf16(from_bits(0x7F800001)), 0x7FC0);
  EXPECT_EQ(f32_to_bf16(from_bits(0xFF800001)), 0xFFC0);
  EXPECT_TRUE(std::isnan(bf16_to_f32(0x7FC0)));
}

TEST(DType, F16KnownValues) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3C00);
  EXPECT_EQ(f32_to_f16(-2.5f), 0xC100);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7BFF);
  EXPECT_EQ(f16_to_f32(0x7BFF), 65504.0f);
  EXPECT_EQ(f16_to_f32(0x3C00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xC100), -2.5f);
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal
  EXPECT_EQ(f16_to_f32(0x0400), std::ldexp(1.0f, -14));
}

TEST(DType, F16Subnormals) {
  const float smallest = std::ldexp(1.0f, -24);
  EXPECT_EQ(f32_to_f16(smallest), 0x0001);
  EXPECT_EQ(f16_to_f32(0x0001), smallest);
  EXPECT_EQ(f16_to_f32(0x8001), -smallest);
  EXPECT_EQ(f16_to_f32(0x03FF), std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(f32_to_f16(std::ldexp(1023.0f, -24)), 0x03FF);
  // Exactly half the smallest subnormal is a tie: rounds to even (zero), keeping the sign.
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(f32_to_f16(-std::ldexp(1.0f, -25)), 0x8000);
  EXPECT_EQ(f32_to_f16(from_bits(0x33000001)), 0x0001);  // just above half -> smallest subnormal
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -26)), 0x0000);
  EXPECT_EQ(f32_to_f16(std::ldexp(3.0f, -25)), 0x0002);   // 1.5 units: tie -> even (2)
  EXPECT_EQ(f32_to_f16(std::ldexp(5.0f, -25)), 0x0002);   // 2.5 units: tie -> even (2)
  EXPECT_EQ(f32_to_f16(std::ldexp(2047.0f, -25)), 0x0400);  // 1023.5 units rounds up into the smallest normal
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::denorm_min()), 0x0000);
}

TEST(DType, F16TiesToEvenAndOverflow) {
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1.0).
  EXPECT_EQ(f32_to_f16(from_bits(0x3F801000)), 0x3C00);
  // 1 + 3 * 2^-11 is halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even): rounds up.
  EXPECT_EQ(f32_to_f16(from_bits(0x3F803000)), 0x3C02);
  EXPECT_EQ(f32_to_f16(from_bits(0x3F801001)), 0x3C01);  // above the tie
  EXPECT_EQ(f32_to_f16(from_bits(0x3F800FFF)), 0x3C00);  // below the tie
  EXPECT_EQ(f32_to_f16(65519.0f), 0x7BFF);               // below the halfway point to 65536
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7C00);               // tie with odd 65504 -> rounds to Inf
  EXPECT_EQ(f32_to_f16(-1e6f), 0xFC00);
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::max()), 0x7C00);
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::infinity()), 0x7C00);
  EXPECT_EQ(f32_to_f16(-std::numeric_limits<float>::infinity()), 0xFC00);
  EXPECT_TRUE(std::isinf(f16_to_f32(0x7C00)));
}

TEST(DType, F16NaN) {
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::quiet_NaN()) & 0x7E00, 0x7E00);
  EXPECT_EQ(f32_to_f16(from_bits(0x7F800001)), 0x7E00);  // low payload: quiet NaN, not Inf
  EXPECT_EQ(f32_to_f16(from_bits(0xFF800001)), 0xFE00);
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7C01)));
  EXPECT_TRUE(std::isnan(f16_to_f32(0xFE00)));
  EXPECT_EQ(to_bits(f16_to_f32(0x7E01)), 0x7FC02000u);  // payload widened exactly
}

// Every bf16 and f16 pattern survives a trip through fp32; NaNs come back quiet (quiet bit set) with their payload.
TEST(DType, ExhaustiveHalfRoundTrip) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<uint16_t>(i);
    const bool bf16_nan = (h & 0x7F80) == 0x7F80 && (h & 0x007F) != 0;
    const uint16_t bf16_expected = bf16_nan ? static_cast<uint16_t>(h | 0x0040) : h;
    ASSERT_EQ(f32_to_bf16(bf16_to_f32(h)), bf16_expected) << "bf16 0x" << std::hex << i;
    const bool f16_nan = (h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0;
    const uint16_t f16_expected = f16_nan ? static_cast<uint16_t>(h | 0x0200) : h;
    ASSERT_EQ(f32_to_f16(f16_to_f32(h)), f16_expected) << "f16 0x" << std::hex << i;
    ASSERT_EQ(std::isnan(f16_to_f32(h)), f16_nan);
  }
}

// Every finite f16 pattern decodes to exactly the value the format defines.
TEST(DType, F16DecodeMatchesFormula) {
  for (uint32_t i = 0; i < 0x7C00; ++i) {
    const uint32_t exp = i >> 10, mant = i & 0x3FF;
    const double v = exp == 0 ? std::ldexp(mant, -24) : std::ldexp(1024 + mant, static_cast<int>(exp) - 25);
    ASSERT_EQ(f16_to_f32(static_cast<uint16_t>(i)), static_cast<float>(v)) << i;
  }
}

float e4m3(uint8_t b) {
  float x;
  convert_to_f32(DType::F8_E4M3, &b, &x, 1);
  return x;
}
uint8_t to_e4m3(float x) {
  uint8_t b;
  convert_from_f32(DType::F8_E4M3, &x, &b, 1);
  return b;
}
float e5m2(uint8_t b) {
  float x;
  convert_to_f32(DType::F8_E5M2, &b, &x, 1);
  return x;
}
uint8_t to_e5m2(float x) {
  uint8_t b;
  convert_from_f32(DType::F8_E5M2, &x, &b, 1);
  return b;
}

TEST(DType, F8E4M3) {
  EXPECT_EQ(e4m3(0x38), 1.0f);
  EXPECT_EQ(e4m3(0x7E), 448.0f);
  EXPECT_EQ(e4m3(0xFE), -448.0f);
  EXPECT_EQ(e4m3(0x01), std::ldexp(1.0f, -9));
  EXPECT_EQ(e4m3(0x78), 256.0f);  // exponent 15 is a normal exponent in the fn variant
  EXPECT_TRUE(std::isnan(e4m3(0x7F)));
  EXPECT_TRUE(std::isnan(e4m3(0xFF)));
  EXPECT_EQ(to_e4m3(1.0f), 0x38);
  EXPECT_EQ(to_e4m3(-2.5f), 0xC2);
  EXPECT_EQ(to_e4m3(448.0f), 0x7E);
  EXPECT_EQ(to_e4m3(464.0f), 0x7E);  // tie between 448 (even) and 480 -> 448
  // Past the max saturates, like torch's float8_e4m3fn cast; only NaN maps to NaN.
  EXPECT_EQ(to_e4m3(465.0f), 0x7E);
  EXPECT_EQ(to_e4m3(-1e9f), 0xFE);
  EXPECT_EQ(to_e4m3(std::numeric_limits<float>::infinity()), 0x7E);
  EXPECT_EQ(to_e4m3(-std::numeric_limits<float>::infinity()), 0xFE);
  EXPECT_EQ(to_e4m3(std::numeric_limits<float>::quiet_NaN()), 0x7F);
  EXPECT_EQ(to_e4m3(-std::numeric_limits<float>::quiet_NaN()), 0xFF);
  EXPECT_EQ(to_e4m3(std::ldexp(1.0f, -10)), 0x00);  // half the smallest subnormal: tie -> 0
  EXPECT_EQ(to_e4m3(std::ldexp(3.0f, -11)), 0x01);
  EXPECT_EQ(to_e4m3(1.0625f), 0x38);  // 1 + 1/16 is a tie between 1 and 1.125: even -> 1
  EXPECT_EQ(to_e4m3(1.1875f), 0x3A);  // 1 + 3/16 is a tie between 1.125 (odd) and 1.25: up
  for (uint32_t b = 0; b < 256; ++b) {
    if ((b & 0x7F) == 0x7F) continue;
    ASSERT_EQ(to_e4m3(e4m3(static_cast<uint8_t>(b))), b) << b;
  }
}

TEST(DType, F8E5M2) {
  EXPECT_EQ(e5m2(0x3C), 1.0f);
  EXPECT_EQ(e5m2(0x7B), 57344.0f);
  EXPECT_EQ(e5m2(0x01), std::ldexp(1.0f, -16));
  EXPECT_TRUE(std::isinf(e5m2(0x7C)));
  EXPECT_TRUE(std::isinf(e5m2(0xFC)) && e5m2(0xFC) < 0);
  EXPECT_TRUE(std::isnan(e5m2(0x7D)));
  EXPECT_EQ(to_e5m2(1.0f), 0x3C);
  EXPECT_EQ(to_e5m2(-2.5f), 0xC1);
  EXPECT_EQ(to_e5m2(57344.0f), 0x7B);
  EXPECT_EQ(to_e5m2(61439.0f), 0x7B);
  EXPECT_EQ(to_e5m2(61440.0f), 0x7C);  // tie with odd max -> Inf
  EXPECT_EQ(to_e5m2(-std::numeric_limits<float>::infinity()), 0xFC);
  EXPECT_EQ(to_e5m2(std::numeric_limits<float>::quiet_NaN()), 0x7F);
  for (uint32_t b = 0; b < 256; ++b) {
    if ((b & 0x7F) > 0x7C) continue;
    ASSERT_EQ(to_e5m2(e5m2(static_cast<uint8_t>(b))), b) << b;
  }
}

TEST(DType, BulkBf16AndF16) {
  const std::vector<float> src = {1.0f, -2.5f, 0.0f, 3.140625f};
  std::vector<uint16_t> packed(src.size());
  std::vector<float> back(src.size());
  convert_from_f32(DType::BF16, src.data(), packed.data(), src.size());
  EXPECT_EQ(packed[0], 0x3F80);
  EXPECT_EQ(packed[1], 0xC020);
  convert_to_f32(DType::BF16, packed.data(), back.data(), src.size());
  EXPECT_EQ(back, src);
  convert_from_f32(DType::F16, src.data(), packed.data(), src.size());
  EXPECT_EQ(packed[1], 0xC100);
  convert_to_f32(DType::F16, packed.data(), back.data(), src.size());
  EXPECT_EQ(back, src);
}

TEST(DType, UnalignedSource) {
  // Tensors in a safetensors buffer need not be aligned: read an F32 and a BF16 from odd addresses.
  unsigned char raw[16] = {};
  const float one = 1.0f;
  std::memcpy(raw + 1, &one, 4);
  float out = 0;
  convert_to_f32(DType::F32, raw + 1, &out, 1);
  EXPECT_EQ(out, 1.0f);
  raw[5] = 0x20, raw[6] = 0xC0;  // bf16 0xC020 little-endian
  convert_to_f32(DType::BF16, raw + 5, &out, 1);
  EXPECT_EQ(out, -2.5f);
}

TEST(DType, IntegersBoolAndF64) {
  const int8_t i8[3] = {-128, 0, 127};
  float f[3];
  convert_to_f32(DType::I8, i8, f, 3);
  EXPECT_EQ(f[0], -128.0f);
  EXPECT_EQ(f[2], 127.0f);
  const uint64_t u64[2] = {0, 18446744073709551615ull};
  convert_to_f32(DType::U64, u64, f, 2);
  EXPECT_EQ(f[1], 18446744073709551616.0f);
  const uint8_t b[3] = {0, 1, 7};
  convert_to_f32(DType::BOOL, b, f, 3);
  EXPECT_EQ(f[0], 0.0f);
  EXPECT_EQ(f[1], 1.0f);
  EXPECT_EQ(f[2], 1.0f);
  const double d[2] = {0.1, -1e300};
  convert_to_f32(DType::F64, d, f, 2);
  EXPECT_EQ(f[0], 0.1f);
  EXPECT_TRUE(std::isinf(f[1]) && f[1] < 0);

  // fp32 -> integers: truncate toward zero, saturate, NaN -> 0.
  const float src[6] = {2.9f, -2.9f, 1e10f, -1e10f, std::numeric_limits<float>::quiet_NaN(), 127.5f};
  int8_t o8[6];
  convert_from_f32(DType::I8, src, o8, 6);
  EXPECT_EQ(o8[0], 2);
  EXPECT_EQ(o8[1], -2);
  EXPECT_EQ(o8[2], 127);
  EXPECT_EQ(o8[3], -128);
  EXPECT_EQ(o8[4], 0);
  EXPECT_EQ(o8[5], 127);
  uint32_t o32[6];
  convert_from_f32(DType::U32, src, o32, 6);
  EXPECT_EQ(o32[0], 2u);
  EXPECT_EQ(o32[1], 0u);
  EXPECT_EQ(o32[2], 4294967295u);
  int64_t o64[6];
  convert_from_f32(DType::I64, src, o64, 6);
  EXPECT_EQ(o64[2], 10000000000);
  EXPECT_EQ(o64[3], -10000000000);
  const float huge = 1e30f;
  convert_from_f32(DType::I64, &huge, o64, 1);
  EXPECT_EQ(o64[0], std::numeric_limits<int64_t>::max());
  uint8_t ob[4];
  const float bsrc[4] = {0.0f, -0.0f, 0.5f, std::numeric_limits<float>::quiet_NaN()};
  convert_from_f32(DType::BOOL, bsrc, ob, 4);
  EXPECT_EQ(ob[0], 0);
  EXPECT_EQ(ob[1], 0);
  EXPECT_EQ(ob[2], 1);
  EXPECT_EQ(ob[3], 1);
  double od;
  const float third = 1.0f / 3.0f;
  convert_from_f32(DType::F64, &third, &od, 1);
  EXPECT_EQ(od, static_cast<double>(third));
}

}  // namespace
}  // namespace tune
