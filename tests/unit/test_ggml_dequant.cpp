// Tests for the ggml type table and dequantize_row: bit-equal (memcmp) to gguf.quants.dequantize on the fixtures
// tools/reference/make_gguf_golden.py wrote (random blocks plus extreme scales: fp16 max, subnormal, inf, NaN).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/ggml_type.h"
#include "kernels/cpu/dequant.h"

namespace tune {
namespace {

const std::string kDir = std::string(TUNE_TEST_DATA) + "/gguf/dequant/";

nlohmann::json meta() { return nlohmann::json::parse(read_text_file(kDir + "meta.json")); }

std::vector<uint8_t> raw_of(const std::string& type) {
  const std::string s = read_text_file(kDir + type + ".raw");
  return {s.begin(), s.end()};
}

std::vector<float> expected_of(const std::string& type) {
  const std::string s = read_text_file(kDir + type + ".f32");
  std::vector<float> v(s.size() / 4);
  std::memcpy(v.data(), s.data(), v.size() * 4);
  return v;
}

// The first index where the bits differ, or -1.
int64_t first_difference(const std::vector<float>& a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (std::bit_cast<uint32_t>(a[i]) != std::bit_cast<uint32_t>(b[i])) return static_cast<int64_t>(i);
  return -1;
}

TEST(GgmlType, TableMatchesGgufPy) {
  const nlohmann::json types = meta()["types"];
  ASSERT_EQ(types.size(), 11u);
  for (const auto& [name, t] : types.items()) {
    const GgmlTypeInfo* info = ggml_type_info(t["number"].get<uint32_t>());
    ASSERT_NE(info, nullptr) << name;
    EXPECT_EQ(info->name, name);
    EXPECT_EQ(info->block_size, t["block_size"].get<int64_t>()) << name;
    EXPECT_EQ(info->block_bytes, t["type_size"].get<int64_t>()) << name;
    EXPECT_EQ(&ggml_type_info(info->type), info);
    EXPECT_EQ(ggml_type_is_quantized(info->type), info->block_size > 1) << name;
    EXPECT_EQ(ggml_type_name(t["number"].get<uint32_t>()), name);
  }
  EXPECT_EQ(ggml_type_info(10u), nullptr);  // Q2_K: known to ggml, not read here
  EXPECT_EQ(ggml_type_name(10u), "Q2_K");
  EXPECT_EQ(ggml_type_info(1000u), nullptr);
  EXPECT_EQ(ggml_type_name(1000u), "");
}

TEST(GgmlType, RowBytes) {
  EXPECT_EQ(ggml_row_bytes(GgmlType::F32, 7), 28);
  EXPECT_EQ(ggml_row_bytes(GgmlType::BF16, 7), 14);
  EXPECT_EQ(ggml_row_bytes(GgmlType::Q4_0, 64), 36);
  EXPECT_EQ(ggml_row_bytes(GgmlType::Q6_K, 512), 420);
  EXPECT_EQ(ggml_row_bytes(GgmlType::Q4_K, 0), 0);
  try {
    ggml_row_bytes(GgmlType::Q4_K, 100);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a Q4_K row of 100 elements is not a whole number of blocks"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ggml_row_bytes(GgmlType::F32, -1), Error);
  EXPECT_THROW(ggml_row_bytes(GgmlType::F32, int64_t{1} << 62), Error);  // bytes overflow int64
}

class DequantType : public ::testing::TestWithParam<std::string> {};

TEST_P(DequantType, BitEqualToGgufPy) {
  const std::string name = GetParam();
  const nlohmann::json t = meta()["types"][name];
  const GgmlTypeInfo& info = *ggml_type_info(t["number"].get<uint32_t>());
  const std::vector<uint8_t> raw = raw_of(name);
  const std::vector<float> expected = expected_of(name);
  ASSERT_EQ(static_cast<int64_t>(expected.size()), t["elements"].get<int64_t>());
  ASSERT_EQ(static_cast<int64_t>(raw.size()), ggml_row_bytes(info.type, static_cast<int64_t>(expected.size())));

  std::vector<float> got(expected.size(), -7.0f);
  cpu::dequantize_row(info.type, raw.data(), got.data(), static_cast<int64_t>(got.size()));
  EXPECT_EQ(first_difference(got, expected), -1) << name;
  EXPECT_EQ(std::memcmp(got.data(), expected.data(), expected.size() * 4), 0) << name;

  // Block by block (as a tile of one block) gives the same bits.
  std::vector<float> blockwise(expected.size(), -7.0f);
  for (size_t b = 0; b * info.block_size < expected.size(); ++b)
    cpu::dequantize_row(info.type, raw.data() + b * info.block_bytes, blockwise.data() + b * info.block_size,
                        info.block_size);
  EXPECT_EQ(first_difference(blockwise, expected), -1) << name;

  // The fixtures do exercise the special values they are meant to (non-finite results somewhere, finite elsewhere).
  size_t non_finite = 0;
  for (const float x : expected) non_finite += std::isfinite(x) ? 0 : 1;
  EXPECT_GT(non_finite, 0u) << name;
  EXPECT_LT(non_finite, expected.size() / 2) << name;
}

INSTANTIATE_TEST_SUITE_P(AllTypes, DequantType,
                         ::testing::Values("F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K",
                                           "Q5_K", "Q6_K"),
                         [](const auto& info) { return info.param; });

// Every fp16 bit pattern (subnormals, infinities, signalling and quiet NaNs) converts as numpy converts it.
TEST(Dequant, AllFp16ValuesMatchNumpy) {
  std::vector<uint16_t> all(65536);
  for (uint32_t i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> out(65536);
  cpu::dequantize_row(GgmlType::F16, reinterpret_cast<const uint8_t*>(all.data()), out.data(), 65536);
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a 64 over the little-endian fp32 bits
  for (const float x : out) {
    const uint32_t bits = std::bit_cast<uint32_t>(x);
    for (int k = 0; k < 4; ++k) h = (h ^ ((bits >> (8 * k)) & 0xFF)) * 0x100000001B3ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  EXPECT_EQ(std::string(hex), meta()["f16_all_fnv1a64"].get<std::string>());
  // Spot values: 1.0, the smallest subnormal 2^-24, a signalling NaN keeps its payload unquieted.
  EXPECT_EQ(std::bit_cast<uint32_t>(out[0x3C00]), 0x3F800000u);
  EXPECT_EQ(std::bit_cast<uint32_t>(out[0x0001]), 0x33800000u);
  EXPECT_EQ(std::bit_cast<uint32_t>(out[0x7C01]), 0x7F802000u);
}

// Hand-derived blocks: one value each, so a wrong nibble order or scale packing shows up as a wrong element.
TEST(Dequant, HandDerivedBlocks) {
  // Q4_0, d = 0.5: qs[3] = 0xA1 -> element 3 = 0.5 * (1 - 8), element 19 = 0.5 * (10 - 8).
  uint8_t q4[18] = {0x00, 0x38};
  std::memset(q4 + 2, 0x88, 16);
  q4[2 + 3] = 0xA1;
  float y[256];
  cpu::dequantize_row(GgmlType::Q4_0, q4, y, 32);
  EXPECT_EQ(y[3], -3.5f);
  EXPECT_EQ(y[19], 1.0f);
  EXPECT_EQ(y[0], 0.0f);

  // Q5_0, d = 1: bit 20 of qh set and qs[4] = 0x30 -> element 20 = (3 | 16) - 16 = 3; element 4 = 0 - 16.
  uint8_t q5[22] = {0x00, 0x3C, 0x00, 0x00, 0x10, 0x00};
  q5[6 + 4] = 0x30;
  cpu::dequantize_row(GgmlType::Q5_0, q5, y, 32);
  EXPECT_EQ(y[20], 3.0f);
  EXPECT_EQ(y[4], -16.0f);

  // Q4_K, d = 1, dmin = 1: sub-block 5's scale = (byte 9 low nibble) | (byte 1 bits 6..7) << 4 = 2 | 16 = 18,
  // its min = (byte 9 high nibble) | (byte 5 bits 6..7) << 4 = 1 | 32 = 33; element 5*32+7 takes the high nibble
  // of qs[2*32+7] = 4: 18 * 4 - 33 = 39.
  uint8_t q4k[144] = {0x00, 0x3C, 0x00, 0x3C};
  q4k[4 + 1] = 0x40;
  q4k[4 + 5] = 0x80;
  q4k[4 + 9] = 0x12;
  q4k[16 + 64 + 7] = 0x40;
  cpu::dequantize_row(GgmlType::Q4_K, q4k, y, 256);
  EXPECT_EQ(y[5 * 32 + 7], 39.0f);
  EXPECT_EQ(y[4 * 32 + 7], 0.0f);  // sub-block 4: scale 0, min 0

  // Q6_K, d = 0.5: element 163 = 128*1 + 32*1 + 3 uses scale[163 / 16 = 10] = -3, nibble 0 of ql[64 + 32 + 3] and
  // bits 2..3 of qh[32 + 3] as bits 4..5.
  uint8_t q6k[210] = {};
  q6k[64 + 32 + 3] = 0x05;
  q6k[128 + 32 + 3] = 0x08;  // bits 2..3 = 2 -> q = 5 | 32 = 37
  q6k[192 + 10] = static_cast<uint8_t>(-3);
  q6k[208] = 0x00;
  q6k[209] = 0x38;
  cpu::dequantize_row(GgmlType::Q6_K, q6k, y, 256);
  EXPECT_EQ(y[163], 0.5f * -3.0f * 5.0f);
}

TEST(Dequant, RefusesPartialBlocks) {
  uint8_t block[34] = {};
  float y[64];
  try {
    cpu::dequantize_row(GgmlType::Q8_0, block, y, 40);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("40 elements are not a whole number of Q8_0 blocks of 32"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tune
