// Tests for RoPE (rotate_half pairing): HF fp32 tables, cpu vs reference, inverse/backward, gradients, identities.
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
    cpu::rope_tables(c.data(), s.data(), T, D, 10000.0);
    ref::rope_tables(c_ref.data(), s_ref.data(), T, D, 10000.0);
    EXPECT_EQ(c, c_ref) << "D=" << D;
    EXPECT_EQ(s, s_ref) << "D=" << D;
  }
}

TEST(RopeTables, KnownValues) {
  const int T = 5, D = 4;  // inv_freq = {1, 1/100} for theta = 1e4
  std::vector<float> c(T * 2), s(T * 2);
  cpu::rope_tables(c.data(), s.data(), T, D, 10000.0);
  EXPECT_EQ(c[0], 1.0f);
  EXPECT_EQ(c[1], 1.0f);
  EXPECT_EQ(s[0], 0.0f);
  EXPECT_EQ(s[1], 0.0f);
  for (int p = 0; p < T; ++p) {
    EXPECT_EQ(c[p * 2], std::cos(float(p))) << p;
    EXPECT_NEAR(s[p * 2 + 1], std::sin(p / 100.0), 1e-7) << p;
  }
}

TEST(RopeTables, OddHeadDimThrows) {
  std::vector<float> c(8), s(8);
  EXPECT_THROW(cpu::rope_tables(c.data(), s.data(), 2, 3, 10000.0), Error);
}

struct RopeSize {
  int B, T, nh, D;
};

class RopeParity : public ::testing::TestWithParam<RopeSize> {};

TEST_P(RopeParity, ForwardBackwardMatchReferenceAndInvert) {
  const auto [B, T, nh, D] = GetParam();
  const int half = D / 2;
  std::vector<float> c(T * half), s(T * half);
  cpu::rope_tables(c.data(), s.data(), T, D, 10000.0);
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
  cpu::rope_tables(c.data(), s.data(), T, D, 10000.0);
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
