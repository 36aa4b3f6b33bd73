// Tests for the SIMD-friendly exp/tanh/erf of kernels/cpu/vec_math.h against double-precision libm: every 127th float
// bit pattern (both signs, all exponents) plus dense grids around the branch points, and the special values.
#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>

#include "kernels/cpu/vec_math.h"

namespace tune {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Calls check(x) for every 127th bit pattern (0.8% of all floats, NaNs skipped) and a 2^-14-spaced grid on [-12, 12].
template <class F>
void for_dense_grid(F check) {
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits += 127) {
    const float x = std::bit_cast<float>(uint32_t(bits));
    if (!std::isnan(x)) check(x);
  }
  for (int i = -12 * 16384; i <= 12 * 16384; ++i) check(float(i) / 16384.0f);
}

// |got - want| / |want| for a normal-range want; results below FLT_MIN are held to an absolute FLT_MIN.
double rel_err(float got, double want) {
  if (std::fabs(want) < FLT_MIN) return std::fabs(got - want) <= FLT_MIN ? 0.0 : INFINITY;
  return std::fabs(double(got) - want) / std::fabs(want);
}

TEST(VecMath, ExpMatchesLibmOnNormalResults) {
  double worst = 0.0;
  float worst_x = 0.0f;
  for_dense_grid([&](float x) {
    const double want = std::exp(double(x));
    if (want > FLT_MAX) return;  // overflow, checked below
    const double e = rel_err(cpu::vec::exp(x), want);
    if (e > worst) worst = e, worst_x = x;
  });
  EXPECT_LE(worst, 2.4e-7) << "at x = " << worst_x;  // 2^-22
  std::printf("max relative error %.3g at x = %.9g\n", worst, worst_x);
}

TEST(VecMath, ExpSpecialValues) {
  EXPECT_EQ(cpu::vec::exp(0.0f), 1.0f);
  EXPECT_EQ(cpu::vec::exp(-kInf), 0.0f);
  EXPECT_EQ(cpu::vec::exp(-90.0f), 0.0f);  // would be subnormal: flushed
  EXPECT_EQ(cpu::vec::exp(kInf), kInf);
  EXPECT_EQ(cpu::vec::exp(88.8f), kInf);
  EXPECT_NEAR(cpu::vec::exp(88.72f) / 3.3931806e38f, 1.0f, 1e-6f);  // n = 128 still representable
  EXPECT_TRUE(std::isnan(cpu::vec::exp(NAN)));
}

TEST(VecMath, TanhMatchesLibmOverTheWholeRange) {
  double worst = 0.0;
  float worst_x = 0.0f;
  for_dense_grid([&](float x) {
    const double e = rel_err(cpu::vec::tanh(x), std::tanh(double(x)));
    if (e > worst) worst = e, worst_x = x;
  });
  EXPECT_LE(worst, 4e-7) << "at x = " << worst_x;
  std::printf("max relative error %.3g at x = %.9g\n", worst, worst_x);
}

TEST(VecMath, TanhSpecialValues) {
  EXPECT_EQ(cpu::vec::tanh(0.0f), 0.0f);
  EXPECT_TRUE(std::signbit(cpu::vec::tanh(-0.0f)));
  EXPECT_EQ(cpu::vec::tanh(kInf), 1.0f);
  EXPECT_EQ(cpu::vec::tanh(-kInf), -1.0f);
  EXPECT_EQ(cpu::vec::tanh(1e30f), 1.0f);
  EXPECT_EQ(cpu::vec::tanh(FLT_TRUE_MIN), FLT_TRUE_MIN);
  EXPECT_TRUE(std::isnan(cpu::vec::tanh(NAN)));
}

TEST(VecMath, ErfMatchesLibmOverTheWholeRange) {
  double worst = 0.0;
  float worst_x = 0.0f;
  for_dense_grid([&](float x) {
    const double e = rel_err(cpu::vec::erf(x), std::erf(double(x)));
    if (e > worst) worst = e, worst_x = x;
  });
  EXPECT_LE(worst, 4e-7) << "at x = " << worst_x;
  std::printf("max relative error %.3g at x = %.9g\n", worst, worst_x);
}

TEST(VecMath, ErfSpecialValues) {
  EXPECT_EQ(cpu::vec::erf(0.0f), 0.0f);
  EXPECT_EQ(cpu::vec::erf(kInf), 1.0f);
  EXPECT_EQ(cpu::vec::erf(-kInf), -1.0f);
  EXPECT_EQ(cpu::vec::erf(-5.0f), -1.0f);
  EXPECT_TRUE(std::isnan(cpu::vec::erf(NAN)));
}

}  // namespace
}  // namespace tune
