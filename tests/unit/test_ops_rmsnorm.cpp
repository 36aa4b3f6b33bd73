// Tests for RMSNorm ((1 + w) Gemma and w Llama scales, and the per-head QK-norm use): cpu vs reference, reference
// backward vs finite differences, constant-vector values.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/ops.h"
#include "kernels/reference/ops_ref.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::max_rel_err;
using test::random_vec;

struct NormSize {
  int N, C;
  float w_offset;  // 1: Gemma (1 + w), 0: Llama w
};

class RmsNormParity : public ::testing::TestWithParam<NormSize> {};

TEST_P(RmsNormParity, ForwardAndBackwardMatchReference) {
  const auto [N, C, off] = GetParam();
  const auto x = random_vec(size_t(N) * C, 1, -3.0, 3.0), w = random_vec(C, 2, -0.5, 0.5);
  const auto dy = random_vec(size_t(N) * C, 3);
  std::vector<float> y(N * C), y_ref(N * C), r(N), r_ref(N);
  cpu::rmsnorm_forward(y.data(), r.data(), x.data(), w.data(), N, C, 1e-6f, off);
  ref::rmsnorm_forward(y_ref.data(), r_ref.data(), x.data(), w.data(), N, C, 1e-6f, off);
  EXPECT_LE(max_rel_err(y, y_ref), 1e-5);
  EXPECT_LE(max_rel_err(r, r_ref), 1e-5);

  auto dx = random_vec(size_t(N) * C, 4), dx_ref = dx;  // += onto a nonzero buffer
  cpu::rmsnorm_backward(dx.data(), dy.data(), x.data(), w.data(), r.data(), N, C, off);
  ref::rmsnorm_backward(dx_ref.data(), dy.data(), x.data(), w.data(), r_ref.data(), N, C, off);
  EXPECT_LE(max_rel_err(dx, dx_ref), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Sizes, RmsNormParity,
                         ::testing::Values(NormSize{1, 1, 1.0f}, NormSize{7, 33, 1.0f}, NormSize{4, 256, 1.0f},
                                           NormSize{129, 5, 1.0f}, NormSize{7, 33, 0.0f}, NormSize{129, 5, 0.0f}));

class RmsNormGrad : public ::testing::TestWithParam<double> {};

TEST_P(RmsNormGrad, ReferenceBackwardMatchesFiniteDifferences) {
  const double off = GetParam();
  const int N = 3, C = 7;
  auto x = random_vec<double>(N * C, 21, -2.0, 2.0);
  const auto w = random_vec<double>(C, 22, -0.5, 0.5), r = random_vec<double>(N * C, 23);
  auto loss = [&] {
    std::vector<double> y(N * C), rstd(N);
    ref::rmsnorm_forward(y.data(), rstd.data(), x.data(), w.data(), N, C, 1e-3, off);
    return test::project(y, r);
  };
  std::vector<double> y(N * C), rstd(N), dx(N * C, 0.0);
  ref::rmsnorm_forward(y.data(), rstd.data(), x.data(), w.data(), N, C, 1e-3, off);
  ref::rmsnorm_backward(dx.data(), r.data(), x.data(), w.data(), rstd.data(), N, C, off);
  EXPECT_LE(max_rel_err(dx, test::numeric_grad(x, loss)), 1e-7);
}

INSTANTIATE_TEST_SUITE_P(Offsets, RmsNormGrad, ::testing::Values(1.0, 0.0));

// QK-norm: q [N, heads, D] normalized per head over D with one shared weight [D] is the op over N*heads rows. The cpu
// op on that view matches a per-head loop of the reference, and its backward matches finite differences.
TEST(QkNorm, PerHeadViewMatchesReferenceAndFiniteDifferences) {
  const int N = 5, heads = 3, D = 8;
  const auto q = random_vec(size_t(N) * heads * D, 31, -2.0, 2.0), w = random_vec(D, 32, 0.5, 1.5);
  std::vector<float> y(q.size()), r(size_t(N) * heads), y_ref(q.size());
  cpu::rmsnorm_forward(y.data(), r.data(), q.data(), w.data(), N * heads, D, 1e-6f, 0.0f);
  for (int n = 0; n < N; ++n)
    for (int h = 0; h < heads; ++h) {
      float rstd = 0.0f;
      const int64_t off = (int64_t(n) * heads + h) * D;
      ref::rmsnorm_forward(y_ref.data() + off, &rstd, q.data() + off, w.data(), 1, D, 1e-6f, 0.0f);
    }
  EXPECT_LE(max_rel_err(y, y_ref), 1e-6);

  auto qd = test::convert<double>(q);
  const auto wd = test::convert<double>(w), proj = random_vec<double>(q.size(), 33);
  auto loss = [&] {
    std::vector<double> out(qd.size()), rstd(size_t(N) * heads);
    ref::rmsnorm_forward(out.data(), rstd.data(), qd.data(), wd.data(), N * heads, D, 1e-6, 0.0);
    return test::project(out, proj);
  };
  std::vector<double> out(qd.size()), rstd(size_t(N) * heads), dq(qd.size(), 0.0);
  ref::rmsnorm_forward(out.data(), rstd.data(), qd.data(), wd.data(), N * heads, D, 1e-6, 0.0);
  ref::rmsnorm_backward(dq.data(), proj.data(), qd.data(), wd.data(), rstd.data(), N * heads, D, 0.0);
  EXPECT_LE(max_rel_err(dq, test::numeric_grad(qd, loss)), 1e-7);
}

TEST(RmsNormKnown, ConstantVector) {
  const int C = 64;
  const float c = -2.5f, eps = 1e-6f;
  const std::vector<float> x(C, c);
  std::vector<float> w(C, 0.0f);
  w[3] = 0.5f;
  std::vector<float> y(C), r(1);
  cpu::rmsnorm_forward(y.data(), r.data(), x.data(), w.data(), 1, C, eps, 1.0f);
  const double expect_r = 1.0 / std::sqrt(double(c) * c + eps);
  EXPECT_NEAR(r[0], expect_r, 1e-7);
  EXPECT_NEAR(y[0], c * expect_r, 1e-6);
  EXPECT_NEAR(y[3], 1.5 * c * expect_r, 1e-6);
}

TEST(RmsNormKnown, ZeroRowIsZeroAndFinite) {
  const std::vector<float> x(8, 0.0f), w(8, 0.25f);
  std::vector<float> y(8, 1.0f), r(1);
  cpu::rmsnorm_forward(y.data(), r.data(), x.data(), w.data(), 1, 8, 1e-6f, 1.0f);
  EXPECT_EQ(y, std::vector<float>(8, 0.0f));
  EXPECT_NEAR(r[0], 1000.0f, 1e-2);
}

}  // namespace
}  // namespace tune
