// Tests for the tile-dequantizing matmuls: y = x·Wᵀ and dx (=|+=) dy·W with W as GGML blocks of each of the 11 types
// against the reference (whole W dequantized, then the naive loops in double), at shapes that leave partial tiles,
// panels and row blocks, the decode case N = 1, and bit-identical results with 1, 2 and 3 threads.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "kernels/cpu/quant_matmul.h"
#include "kernels/reference/quant_matmul_ref.h"
#include "unit/ggml_blocks.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::max_rel_err;
using test::kAllGgmlTypes;
using test::random_vec;
using test::random_quant_matrix;

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
  for (const GgmlType t : kAllGgmlTypes) {
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
  const QuantMatrix W = random_quant_matrix(type, out, in, 11);
  const auto x = random_vec(size_t(N) * in, 12), dy = random_vec(size_t(N) * out, 13);
  const auto dx0 = random_vec(size_t(N) * in, 14);

  std::vector<float> y(size_t(N) * out, 7.0f);
  cpu::quant_linear_forward(y.data(), x.data(), W, N);
  std::vector<double> y_ref(y.size());
  ref::quant_linear_forward(y_ref.data(), test::convert<double>(x).data(), W, N);
  EXPECT_LE(max_rel_err(y, y_ref), 1e-5);

  std::vector<float> dx(size_t(N) * in, 7.0f);
  cpu::quant_linear_backward_input(dx.data(), dy.data(), W, N, false);
  std::vector<double> dx_ref(dx.size());
  ref::quant_linear_backward_input(dx_ref.data(), test::convert<double>(dy).data(), W, N, false);
  EXPECT_LE(max_rel_err(dx, dx_ref), 1e-5);

  std::vector<float> dx_acc = dx0;
  cpu::quant_linear_backward_input(dx_acc.data(), dy.data(), W, N, true);
  std::vector<double> dx_acc_ref = test::convert<double>(dx0);
  ref::quant_linear_backward_input(dx_acc_ref.data(), test::convert<double>(dy).data(), W, N, true);
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
    const QuantMatrix W = random_quant_matrix(type, out, in, 21);
    const auto x = random_vec(size_t(N) * in, 22), dy = random_vec(size_t(N) * out, 23);
    std::vector<std::vector<float>> ys, dxs;
    const int saved = omp_get_max_threads();
    for (const int threads : {1, 2, 3}) {
      omp_set_num_threads(threads);
      std::vector<float> y(size_t(N) * out), dx(size_t(N) * in);
      cpu::quant_linear_forward(y.data(), x.data(), W, N);
      cpu::quant_linear_backward_input(dx.data(), dy.data(), W, N, false);
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
