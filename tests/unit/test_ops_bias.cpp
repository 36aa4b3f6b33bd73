// Tests for the bias add of biased projections: cpu vs reference, known values, and finite differences through a
// biased linear y = x.W^T + b (the frozen bias passes dy through unchanged, so dx = dy.W as without a bias).
#include <gtest/gtest.h>

#include <vector>

#include "kernels/cpu/ops.h"
#include "kernels/reference/ops_ref.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::max_rel_err;
using test::random_vec;

TEST(BiasAdd, MatchesReferenceAndKnownValues) {
  for (const auto [N, C] : {std::pair{1, 1}, std::pair{7, 33}, std::pair{300, 260}}) {
    const auto y0 = random_vec(size_t(N) * C, 1), b = random_vec(size_t(C), 2);
    auto y = y0, y_ref = y0;
    cpu::bias_add(y.data(), b.data(), N, C);
    ref::bias_add(y_ref.data(), b.data(), N, C);
    EXPECT_EQ(y, y_ref);
    EXPECT_EQ(y[size_t(N - 1) * C + C - 1], y0[size_t(N - 1) * C + C - 1] + b[C - 1]);
  }
}

TEST(BiasAdd, BiasedLinearInputGradientMatchesFiniteDifferences) {
  const int N = 3, in = 5, out = 4;
  auto x = random_vec<double>(size_t(N) * in, 11);
  const auto w = random_vec<double>(size_t(out) * in, 12), b = random_vec<double>(size_t(out), 13);
  const auto r = random_vec<double>(size_t(N) * out, 14);
  auto loss = [&] {
    std::vector<double> y(size_t(N) * out);
    ref::linear_forward(y.data(), x.data(), w.data(), N, in, out, 1.0, false);
    ref::bias_add(y.data(), b.data(), N, out);
    return test::project(y, r);
  };
  std::vector<double> dx(x.size());
  ref::linear_backward_input(dx.data(), r.data(), w.data(), N, in, out, 1.0, false);  // bias: dy unchanged
  EXPECT_LE(max_rel_err(dx, test::numeric_grad(x, loss)), 1e-8);
}

}  // namespace
}  // namespace tune
