// Tests for RoPE (rotate_half pairing): HF fp32 tables, linear and llama3 frequency scaling, cpu vs reference,
// inverse/backward, gradients, identities.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/ops.h"
#include "kernels/reference/ops_ref.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::max_rel_err;
using test::random_vec;

TEST(RopeTables, MatchReferenceBitForBit) {
  for (int D : {2, 8, 256}) {
    const int T = 37, half = D / 2;
    std::vector<float> c(T * half), s(T * half), c_ref(T * half), s_ref(T * half);
    cpu::rope_tables(c.data(), s.data(), T, D, RopeSpec{.theta = 10000.0});
    ref::rope_tables(c_ref.data(), s_ref.data(), T, D, 10000.0);
    EXPECT_EQ(c, c_ref) << "D=" << D;
    EXPECT_EQ(s, s_ref) << "D=" << D;
  }
}

TEST(RopeTables, KnownValues) {
  const int T = 5, D = 4;  // inv_freq = {1, 1/100} for theta = 1e4
  std::vector<float> c(T * 2), s(T * 2);
  cpu::rope_tables(c.data(), s.data(), T, D, RopeSpec{.theta = 10000.0});
  EXPECT_EQ(c[0], 1.0f);
  EXPECT_EQ(c[1], 1.0f);
  EXPECT_EQ(s[0], 0.0f);
  EXPECT_EQ(s[1], 0.0f);
  for (int p = 0; p < T; ++p) {
    EXPECT_EQ(c[p * 2], std::cos(float(p))) << p;
    EXPECT_NEAR(s[p * 2 + 1], std::sin(p / 100.0), 1e-7) << p;
  }
}

// Linear scaling divides every inverse frequency by the factor (in fp32, as HF's inv_freq /= factor).
TEST(RopeInvFreq, LinearDividesByFactor) {
  const int D = 16;
  std::vector<float> plain(D / 2), linear(D / 2);
  cpu::rope_inv_freq(plain.data(), D, RopeSpec{.theta = 10000.0});
  cpu::rope_inv_freq(linear.data(), D, RopeSpec{.theta = 10000.0, .scaling = RopeScaling::Linear, .factor = 4.0});
  for (int i = 0; i < D / 2; ++i) EXPECT_EQ(linear[i], plain[i] / 4.0f) << i;
}

// llama3 with L = 256, low 1, high 4: wavelengths 2 pi / 10000^(-i/8) = 6.3, 19.9, 62.8 (< 64: kept), 198.7 (in
// [64, 256]: blended with s = (256 / 198.7 - 1) / 3), 628 and up (> 256: divided by the factor 8).
TEST(RopeInvFreq, Llama3KeepsHighBlendsMediumScalesLowFrequencies) {
  const int D = 16;
  const RopeSpec rope{.theta = 10000.0, .scaling = RopeScaling::Llama3, .factor = 8.0, .low_freq_factor = 1.0,
                      .high_freq_factor = 4.0, .original_max_position = 256};
  std::vector<float> f(D / 2), plain(D / 2);
  std::vector<double> f_ref(D / 2);
  cpu::rope_inv_freq(f.data(), D, rope);
  cpu::rope_inv_freq(plain.data(), D, RopeSpec{.theta = 10000.0});
  ref::rope_inv_freq(f_ref.data(), D, rope);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(f[i], plain[i]) << i;
  const double f3 = std::pow(10000.0, -3.0 / 8.0), s = (256.0 / (2 * M_PI / f3) - 1.0) / 3.0;
  EXPECT_NEAR(f[3], (1 - s) * f3 / 8 + s * f3, 1e-6 * f3);
  for (int i = 4; i < D / 2; ++i) EXPECT_NEAR(f[i], plain[i] / 8.0f, 1e-7 * plain[i]) << i;
  EXPECT_LE(max_rel_err(f, f_ref), 1e-6);
}

TEST(RopeTables, OddHeadDimThrows) {
  std::vector<float> c(8), s(8);
  EXPECT_THROW(cpu::rope_tables(c.data(), s.data(), 2, 3, RopeSpec{.theta = 10000.0}), Error);
}

struct RopeSize {
  int B, T, nh, D;
};

class RopeParity : public ::testing::TestWithParam<RopeSize> {};

TEST_P(RopeParity, ForwardBackwardMatchReferenceAndInvert) {
  const auto [B, T, nh, D] = GetParam();
  const int half = D / 2;
  std::vector<float> c(T * half), s(T * half);
  cpu::rope_tables(c.data(), s.data(), T, D, RopeSpec{.theta = 10000.0});
  const auto x = random_vec(size_t(B) * T * nh * D, 1);
  auto y = x, y_ref = x;
  cpu::rope_forward(y.data(), c.data(), s.data(), B, T, nh, D);
  ref::rope_forward(y_ref.data(), c.data(), s.data(), B, T, nh, D);
  EXPECT_LE(max_rel_err(y, y_ref), 1e-6);

  auto g = y, g_ref = y;
  cpu::rope_backward(g.data(), c.data(), s.data(), B, T, nh, D);
  ref::rope_backward(g_ref.data(), c.data(), s.data(), B, T, nh, D);
  EXPECT_LE(max_rel_err(g, g_ref), 1e-6);
  EXPECT_LE(max_rel_err(g, x), 1e-6);  // the backward is the inverse rotation
}

INSTANTIATE_TEST_SUITE_P(Sizes, RopeParity,
                         ::testing::Values(RopeSize{1, 1, 1, 2}, RopeSize{2, 5, 3, 8}, RopeSize{3, 17, 2, 6},
                                           RopeSize{1, 9, 4, 256}));

TEST(RopeKnown, PositionZeroIsIdentityAndPairsHalves) {
  const int T = 2, D = 4;
  std::vector<float> c(T * 2), s(T * 2);
  cpu::rope_tables(c.data(), s.data(), T, D, RopeSpec{.theta = 10000.0});
  std::vector<float> x = {1, 2, 3, 4, 1, 0, 0, 0};  // [B=1, T=2, nh=1, D=4]
  cpu::rope_forward(x.data(), c.data(), s.data(), 1, T, 1, D);
  EXPECT_EQ(std::vector<float>(x.begin(), x.begin() + 4), (std::vector<float>{1, 2, 3, 4}));
  // position 1, x = e_0: dim 0 pairs with dim 2 (i + D/2): out = (cos 1, 0, sin 1, 0)
  EXPECT_FLOAT_EQ(x[4], std::cos(1.0f));
  EXPECT_EQ(x[5], 0.0f);
  EXPECT_FLOAT_EQ(x[6], std::sin(1.0f));
  EXPECT_EQ(x[7], 0.0f);
}

TEST(RopeGrad, ReferenceBackwardMatchesFiniteDifferences) {
  const int B = 2, T = 4, nh = 2, D = 6, half = D / 2;
  std::vector<double> c(T * half), s(T * half);
  ref::rope_tables(c.data(), s.data(), T, D, 100.0);
  auto x = random_vec<double>(size_t(B) * T * nh * D, 31);
  const auto r = random_vec<double>(x.size(), 32);
  auto loss = [&] {
    auto y = x;
    ref::rope_forward(y.data(), c.data(), s.data(), B, T, nh, D);
    return test::project(y, r);
  };
  auto g = r;
  ref::rope_backward(g.data(), c.data(), s.data(), B, T, nh, D);
  EXPECT_LE(max_rel_err(g, test::numeric_grad(x, loss)), 1e-7);
}

}  // namespace
}  // namespace tune
