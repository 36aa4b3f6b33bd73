// The table of GGML tensor types tune.cpp reads (block sizes and bytes as ggml's type traits define them).
#include "io/ggml_type.h"

#include <limits>
#include <utility>

#include "core/error.h"

namespace tune {
namespace {

// Block layouts (ggml-common.h): Q4_0 = f16 d + 16 nibble bytes; Q4_1 = f16 d, m + 16; Q5_0 = f16 d + u32 qh + 16;
// Q5_1 = f16 d, m + u32 qh + 16; Q8_0 = f16 d + 32 int8; Q4_K = f16 d, dmin + 12 scale bytes + 128;
// Q5_K = f16 d, dmin + 12 + 32 qh + 128; Q6_K = 128 ql + 64 qh + 16 int8 scales + f16 d.
constexpr GgmlTypeInfo kTypes[] = {
    {GgmlType::F32, "F32", 1, 4},       {GgmlType::F16, "F16", 1, 2},       {GgmlType::Q4_0, "Q4_0", 32, 18},
    {GgmlType::Q4_1, "Q4_1", 32, 20},   {GgmlType::Q5_0, "Q5_0", 32, 22},   {GgmlType::Q5_1, "Q5_1", 32, 24},
    {GgmlType::Q8_0, "Q8_0", 32, 34},   {GgmlType::Q4_K, "Q4_K", 256, 144}, {GgmlType::Q5_K, "Q5_K", 256, 176},
    {GgmlType::Q6_K, "Q6_K", 256, 210}, {GgmlType::BF16, "BF16", 1, 2},
};

// Every ggml_type number (gguf-py's GGMLQuantizationType), including the ones tune.cpp does not read.
constexpr std::pair<uint32_t, std::string_view> kAllNames[] = {
    {0, "F32"},      {1, "F16"},     {2, "Q4_0"},    {3, "Q4_1"},   {6, "Q5_0"},   {7, "Q5_1"},   {8, "Q8_0"},
    {9, "Q8_1"},     {10, "Q2_K"},   {11, "Q3_K"},   {12, "Q4_K"},  {13, "Q5_K"},  {14, "Q6_K"},  {15, "Q8_K"},
    {16, "IQ2_XXS"}, {17, "IQ2_XS"}, {18, "IQ3_XXS"}, {19, "IQ1_S"}, {20, "IQ4_NL"}, {21, "IQ3_S"}, {22, "IQ2_S"},
    {23, "IQ4_XS"},  {24, "I8"},     {25, "I16"},    {26, "I32"},   {27, "I64"},   {28, "F64"},   {29, "IQ1_M"},
    {30, "BF16"},    {34, "TQ1_0"},  {35, "TQ2_0"},  {39, "MXFP4"}, {40, "NVFP4"}, {41, "Q1_0"},
};

}  // namespace

std::string_view ggml_type_name(uint32_t type) {
  for (const auto& [number, name] : kAllNames)
    if (number == type) return name;
  return "";
}

std::string_view ggml_supported_type_names() { return "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K"; }

const GgmlTypeInfo* ggml_type_info(uint32_t type) {
  for (const GgmlTypeInfo& info : kTypes)
    if (static_cast<uint32_t>(info.type) == type) return &info;
  return nullptr;
}

const GgmlTypeInfo& ggml_type_info(GgmlType type) {
  const GgmlTypeInfo* info = ggml_type_info(static_cast<uint32_t>(type));
  TUNE_CHECK(info, "unsupported ggml type number ", static_cast<uint32_t>(type));
  return *info;
}

bool ggml_type_is_quantized(GgmlType type) {
  return type != GgmlType::F32 && type != GgmlType::F16 && type != GgmlType::BF16;
}

int64_t ggml_row_bytes(GgmlType type, int64_t n) {
  const GgmlTypeInfo& info = ggml_type_info(type);
  TUNE_CHECK(n >= 0 && n % info.block_size == 0, "a ", info.name, " row of ", n,
             " elements is not a whole number of blocks (", info.name, " stores blocks of ", info.block_size,
             " elements)");
  TUNE_CHECK(n / info.block_size <= std::numeric_limits<int64_t>::max() / info.block_bytes, "a ", info.name,
             " row of ", n, " elements has more bytes than a 64-bit count holds");
  return n / info.block_size * info.block_bytes;
}

}  // namespace tune
