// Tests for the tile-dequantizing matmuls: y = x·Wᵀ and dx (=|+=) dy·W with W as GGML blocks of each of the 11 types
// against the reference (whole W dequantized, then the naive loops in double), at shapes that leave partial tiles,
// panels and row blocks, the decode case N = 1, and bit-identical results with 1, 2 and 3 threads.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "kernels/cpu/quant_matmul.h"
#include "kernels/reference/quant_matmul_ref.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::max_rel_err;
using test::random_vec;

constexpr GgmlType kAllTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,
                                  GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                                  GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

// Byte offsets of the fp16 scale fields in one block (ggml-common.h); every other byte is a valid quant.
std::vector<int> f16_fields(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0: case GgmlType::Q5_0: case GgmlType::Q8_0: return {0};
    case GgmlType::Q4_1: case GgmlType::Q5_1: case GgmlType::Q4_K: case GgmlType::Q5_K: return {0, 2};
    case GgmlType::Q6_K: return {208};
    default: return {};
  }
}

// rows x cols random GGML data of type t: F32/F16/BF16 values in [-1, 1); quantized blocks with random quants and
// scales in [0.002, 0.02) (so dequantized values stay O(1)).
std::vector<uint8_t> random_blocks(GgmlType t, int64_t rows, int64_t cols, uint32_t seed) {
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

struct Weight {
  std::vector<uint8_t> bytes;
  QuantMatrix W;
};

Weight random_weight(GgmlType t, int64_t rows, int64_t cols, uint32_t seed) {
  Weight w{random_blocks(t, rows, cols, seed), {}};
  w.W = make_quant_matrix(t, rows, cols, w.bytes.data(), int64_t(w.bytes.size()), nullptr, "test weight");
  return w;
}

struct Case {
  GgmlType type;
  int N, out, in;
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  return std::string(ggml_type_info(c.type).name) + "_N" + std::to_string(c.N) + "_out" + std::to_string(c.out) +
         "_in" + std::to_string(c.in);
}

std::vector<Case> parity_cases() {
  std::vector<Case> cases;
  for (const GgmlType t : kAllTypes) {
    const int64_t bs = ggml_type_info(t).block_size;
    const int in = bs == 256 ? 768 : 576;  // partial column panels; forward tiles of 48 or 32 rows
    cases.push_back({t, 37, 200, in});     // partial last tile and column panel, x in one row block
    cases.push_back({t, 1, 70, in});       // a decode step (matrix-vector)
    cases.push_back({t, 300, 24, int(bs == 256 ? 256 : 64)});  // one tile, x cut into row blocks
  }
  return cases;
}

class QuantMatmulParity : public ::testing::TestWithParam<Case> {};

TEST_P(QuantMatmulParity, ForwardAndInputGradientMatchReference) {
  const auto [type, N, out, in] = GetParam();
  const Weight w = random_weight(type, out, in, 11);
  const auto x = random_vec(size_t(N) * in, 12), dy = random_vec(size_t(N) * out, 13);
  const auto dx0 = random_vec(size_t(N) * in, 14);

  std::vector<float> y(size_t(N) * out, 7.0f);
  cpu::quant_linear_forward(y.data(), x.data(), w.W, N);
  std::vector<double> y_ref(y.size());
  ref::quant_linear_forward(y_ref.data(), test::convert<double>(x).data(), w.W, N);
  EXPECT_LE(max_rel_err(y, y_ref), 1e-5);

  std::vector<float> dx(size_t(N) * in, 7.0f);
  cpu::quant_linear_backward_input(dx.data(), dy.data(), w.W, N, false);
  std::vector<double> dx_ref(dx.size());
  ref::quant_linear_backward_input(dx_ref.data(), test::convert<double>(dy).data(), w.W, N, false);
  EXPECT_LE(max_rel_err(dx, dx_ref), 1e-5);

  std::vector<float> dx_acc = dx0;
  cpu::quant_linear_backward_input(dx_acc.data(), dy.data(), w.W, N, true);
  std::vector<double> dx_acc_ref = test::convert<double>(dx0);
  ref::quant_linear_backward_input(dx_acc_ref.data(), test::convert<double>(dy).data(), w.W, N, true);
  EXPECT_LE(max_rel_err(dx_acc, dx_acc_ref), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantMatmulParity, ::testing::ValuesIn(parity_cases()), case_name);

// The reference itself: a dequantized Q8_0 block is d * q exactly.
TEST(QuantMatmul, ReferenceDequantizesQ8_0AsScaleTimesQuant) {
  std::vector<uint8_t> block(34);
  const uint16_t d = f32_to_f16(0.5f);
  std::memcpy(block.data(), &d, 2);
  for (int j = 0; j < 32; ++j) block[size_t(2 + j)] = static_cast<uint8_t>(int8_t(j - 16));
  const QuantMatrix W = make_quant_matrix(GgmlType::Q8_0, 1, 32, block.data(), 34, nullptr, "block");
  const std::vector<float> w = ref::dequantize_matrix<float>(W);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(w[size_t(j)], 0.5f * float(j - 16));
  std::vector<float> y(1);
  const std::vector<float> x(32, 1.0f);
  cpu::quant_linear_forward(y.data(), x.data(), W, 1);
  EXPECT_EQ(y[0], 0.5f * -16.0f);  // Σ (j - 16) over j < 32 = -16
}

// Threads: the team decides only who runs which unit, so results are bit-identical for any count.
TEST(QuantMatmul, ResultsDoNotDependOnThreadCount) {
  for (const GgmlType type : {GgmlType::Q4_K, GgmlType::Q8_0, GgmlType::F16}) {
    const int64_t in = ggml_type_info(type).block_size == 256 ? 1024 : 576;
    const int N = 700, out = 384;  // big enough to run every cut in parallel
    const Weight w = random_weight(type, out, in, 21);
    const auto x = random_vec(size_t(N) * in, 22), dy = random_vec(size_t(N) * out, 23);
    std::vector<std::vector<float>> ys, dxs;
    const int saved = omp_get_max_threads();
    for (const int threads : {1, 2, 3}) {
      omp_set_num_threads(threads);
      std::vector<float> y(size_t(N) * out), dx(size_t(N) * in);
      cpu::quant_linear_forward(y.data(), x.data(), w.W, N);
      cpu::quant_linear_backward_input(dx.data(), dy.data(), w.W, N, false);
      ys.push_back(std::move(y));
      dxs.push_back(std::move(dx));
    }
    omp_set_num_threads(saved);
    EXPECT_EQ(ys[0], ys[1]) << ggml_type_info(type).name;
    EXPECT_EQ(ys[0], ys[2]) << ggml_type_info(type).name;
    EXPECT_EQ(dxs[0], dxs[1]) << ggml_type_info(type).name;
    EXPECT_EQ(dxs[0], dxs[2]) << ggml_type_info(type).name;
  }
}

TEST(QuantMatmul, WrongByteCountIsAnError) {
  std::vector<uint8_t> bytes(33);
  EXPECT_THROW(make_quant_matrix(GgmlType::Q8_0, 1, 32, bytes.data(), 33, nullptr, "w"), Error);
  EXPECT_THROW(make_quant_matrix(GgmlType::Q8_0, 1, 40, bytes.data(), 33, nullptr, "w"), Error);  // not whole blocks
}

}  // namespace
}  // namespace tune
