// Tests for the linear matmuls: cpu (sgemm) vs reference parity, reference gradients vs finite differences, known
// values.
#include <gtest/gtest.h>

#include <vector>

#include "kernels/cpu/ops.h"
#include "kernels/reference/ops_ref.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::max_rel_err;
using test::random_vec;

struct LinearSize {
  int N, in, out;
};

class LinearParity : public ::testing::TestWithParam<LinearSize> {};

TEST_P(LinearParity, ForwardAndBackwardMatchReference) {
  const auto [N, in, out] = GetParam();
  const auto x = random_vec(size_t(N) * in, 1), w = random_vec(size_t(out) * in, 2);
  const auto dy = random_vec(size_t(N) * out, 3);
  const auto base_y = random_vec(size_t(N) * out, 4), base_dx = random_vec(size_t(N) * in, 5);
  const auto base_dw = random_vec(size_t(out) * in, 6);

  for (bool acc : {false, true}) {
    auto y = base_y, y_ref = base_y;
    cpu::linear_forward(y.data(), x.data(), w.data(), N, in, out, 0.75f, acc);
    ref::linear_forward(y_ref.data(), x.data(), w.data(), N, in, out, 0.75f, acc);
    EXPECT_LE(max_rel_err(y, y_ref), 1e-5) << "forward accumulate=" << acc;

    auto dx = base_dx, dx_ref = base_dx;
    cpu::linear_backward_input(dx.data(), dy.data(), w.data(), N, in, out, -1.5f, acc);
    ref::linear_backward_input(dx_ref.data(), dy.data(), w.data(), N, in, out, -1.5f, acc);
    EXPECT_LE(max_rel_err(dx, dx_ref), 1e-5) << "backward_input accumulate=" << acc;
  }
  auto dw = base_dw, dw_ref = base_dw;
  cpu::linear_backward_weight(dw.data(), dy.data(), x.data(), N, in, out, 0.5f);
  ref::linear_backward_weight(dw_ref.data(), dy.data(), x.data(), N, in, out, 0.5f);
  EXPECT_LE(max_rel_err(dw, dw_ref), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Sizes, LinearParity,
                         ::testing::Values(LinearSize{1, 1, 1}, LinearSize{7, 13, 5}, LinearSize{1, 64, 33},
                                           LinearSize{33, 2, 17}, LinearSize{65, 96, 130}));

TEST(LinearGrad, ReferenceBackwardMatchesFiniteDifferences) {
  const int N = 3, in = 5, out = 4;
  const double alpha = 0.8;
  auto x = random_vec<double>(N * in, 11), w = random_vec<double>(out * in, 12);
  const auto r = random_vec<double>(N * out, 13);
  auto loss = [&] {
    std::vector<double> y(N * out);
    ref::linear_forward(y.data(), x.data(), w.data(), N, in, out, alpha, false);
    return test::project(y, r);
  };
  std::vector<double> dx(N * in), dw(out * in, 0.0);
  ref::linear_backward_input(dx.data(), r.data(), w.data(), N, in, out, alpha, false);
  ref::linear_backward_weight(dw.data(), r.data(), x.data(), N, in, out, alpha);
  EXPECT_LE(max_rel_err(dx, test::numeric_grad(x, loss)), 1e-7);
  EXPECT_LE(max_rel_err(dw, test::numeric_grad(w, loss)), 1e-7);
}

TEST(LinearKnown, SmallMatrix) {
  const std::vector<float> x = {1, 2, -1, 3};       // [2, 2]
  const std::vector<float> w = {1, 0, 0, 1, 1, 1};  // [3, 2]
  std::vector<float> y(6, 100.0f);
  cpu::linear_forward(y.data(), x.data(), w.data(), 2, 2, 3, 2.0f, false);
  EXPECT_EQ(y, (std::vector<float>{2, 4, 6, -2, 6, 4}));
  cpu::linear_forward(y.data(), x.data(), w.data(), 2, 2, 3, 1.0f, true);
  EXPECT_EQ(y, (std::vector<float>{3, 6, 9, -3, 9, 6}));
  std::vector<float> dw(6, 1.0f);
  const std::vector<float> dy = {1, 0, 0, 0, 0, 1};  // [2, 3]
  cpu::linear_backward_weight(dw.data(), dy.data(), x.data(), 2, 2, 3, 1.0f);
  EXPECT_EQ(dw, (std::vector<float>{2, 3, 1, 1, 0, 4}));
}

}  // namespace
}  // namespace tune
