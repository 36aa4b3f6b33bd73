// Tests for GeGLU with tanh and exact GELU: cpu vs reference, cpu vs double precision on a dense grid, analytic
// backward vs finite differences, known values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/ops.h"
#include "kernels/reference/ops_ref.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::max_rel_err;
using test::random_vec;

class GegluByAct : public ::testing::TestWithParam<Activation> {};

TEST_P(GegluByAct, MatchesReference) {
  const Activation act = GetParam();
  for (int64_t n : {int64_t(1), int64_t(1001)}) {
    const auto gate = random_vec(n, 1, -6.0, 6.0), up = random_vec(n, 2), dh = random_vec(n, 3);
    std::vector<float> h(n), h_ref(n), dg(n), du(n), dg_ref(n), du_ref(n);
    cpu::geglu_forward(h.data(), gate.data(), up.data(), n, act);
    ref::geglu_forward(h_ref.data(), gate.data(), up.data(), n, act);
    EXPECT_LE(max_rel_err(h, h_ref), 1e-6) << n;
    cpu::geglu_backward(dg.data(), du.data(), dh.data(), gate.data(), up.data(), n, act);
    ref::geglu_backward(dg_ref.data(), du_ref.data(), dh.data(), gate.data(), up.data(), n, act);
    EXPECT_LE(max_rel_err(dg, dg_ref), 1e-6) << n;
    EXPECT_LE(max_rel_err(du, du_ref), 1e-6) << n;
  }
}

// The vectorized GELU is as accurate as the scalar float formula: error vs double precision (absolute, relative to
// max(1, |gate|)) below 3e-7 on a 2^-10-spaced grid over [-16, 16] and at large gates.
TEST_P(GegluByAct, MatchesDoublePrecisionOnADenseGrid) {
  const Activation act = GetParam();
  std::vector<float> gate;
  for (int i = -16 * 1024; i <= 16 * 1024; ++i) gate.push_back(float(i) / 1024.0f);
  for (float big : {100.0f, 1e4f, 1e12f}) gate.insert(gate.end(), {big, -big});
  const int64_t n = int64_t(gate.size());
  const std::vector<float> ones(n, 1.0f);
  std::vector<float> h(n), dg(n), du(n);
  cpu::geglu_forward(h.data(), gate.data(), ones.data(), n, act);
  cpu::geglu_backward(dg.data(), du.data(), ones.data(), gate.data(), ones.data(), n, act);
  const auto gate_d = test::convert<double>(gate);
  const std::vector<double> ones_d(n, 1.0);
  std::vector<double> h_d(n), dg_d(n), du_d(n);
  ref::geglu_forward(h_d.data(), gate_d.data(), ones_d.data(), n, act);
  ref::geglu_backward(dg_d.data(), du_d.data(), ones_d.data(), gate_d.data(), ones_d.data(), n, act);
  double err_h = 0.0, err_dg = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double scale = std::max(1.0, std::fabs(gate_d[i]));
    err_h = std::max(err_h, std::fabs(h[i] - h_d[i]) / scale);
    err_dg = std::max(err_dg, std::fabs(dg[i] - dg_d[i]) / scale);
    ASSERT_TRUE(std::isfinite(h[i]) && std::isfinite(dg[i])) << gate[i];
    EXPECT_EQ(du[i], h[i]) << gate[i];  // dup = dh * gelu(gate) with dh = up = 1
  }
  EXPECT_LE(err_h, 3e-7);
  EXPECT_LE(err_dg, 3e-7);
}

TEST_P(GegluByAct, ReferenceBackwardMatchesFiniteDifferences) {
  const Activation act = GetParam();
  const int64_t n = 40;
  auto gate = random_vec<double>(n, 11, -4.0, 4.0), up = random_vec<double>(n, 12);
  const auto r = random_vec<double>(n, 13);
  auto loss = [&] {
    std::vector<double> h(n);
    ref::geglu_forward(h.data(), gate.data(), up.data(), n, act);
    return test::project(h, r);
  };
  std::vector<double> dg(n), du(n);
  ref::geglu_backward(dg.data(), du.data(), r.data(), gate.data(), up.data(), n, act);
  EXPECT_LE(max_rel_err(dg, test::numeric_grad(gate, loss)), 1e-7);
  EXPECT_LE(max_rel_err(du, test::numeric_grad(up, loss)), 1e-7);
}

INSTANTIATE_TEST_SUITE_P(Acts, GegluByAct,
                         ::testing::Values(Activation::GeluTanh, Activation::GeluExact, Activation::Silu));

TEST(GegluKnown, GeluValues) {
  const std::vector<float> gate = {0.0f, 1.0f, -2.0f, -30.0f, 30.0f};
  const std::vector<float> up(gate.size(), 1.0f);
  std::vector<float> h(gate.size());
  cpu::geglu_forward(h.data(), gate.data(), up.data(), int64_t(gate.size()), Activation::GeluTanh);
  EXPECT_EQ(h[0], 0.0f);
  EXPECT_NEAR(h[1], 0.8411919906082768, 1e-7);
  EXPECT_NEAR(h[2], -0.04540230591222494, 1e-7);
  EXPECT_NEAR(h[3], 0.0f, 1e-7);
  EXPECT_FLOAT_EQ(h[4], 30.0f);
  cpu::geglu_forward(h.data(), gate.data(), up.data(), int64_t(gate.size()), Activation::GeluExact);
  EXPECT_EQ(h[0], 0.0f);
  EXPECT_NEAR(h[1], 0.8413447460685429, 1e-7);
  EXPECT_NEAR(h[2], -0.04550026389635842, 1e-7);
  EXPECT_NEAR(h[3], 0.0f, 1e-7);
  EXPECT_FLOAT_EQ(h[4], 30.0f);
}

// SiLU x * sigmoid(x): torch.nn.functional.silu values in double.
TEST(GegluKnown, SiluValues) {
  const std::vector<float> gate = {0.0f, 1.0f, -2.0f, -30.0f, 30.0f};
  const std::vector<float> up(gate.size(), 2.0f);
  std::vector<float> h(gate.size());
  cpu::geglu_forward(h.data(), gate.data(), up.data(), int64_t(gate.size()), Activation::Silu);
  EXPECT_EQ(h[0], 0.0f);
  EXPECT_NEAR(h[1], 2 * 0.7310585786300049, 2e-7);
  EXPECT_NEAR(h[2], 2 * -0.23840584404423515, 2e-7);
  EXPECT_NEAR(h[3], 2 * -2.8072868906520526e-12, 1e-9);
  EXPECT_FLOAT_EQ(h[4], 60.0f);
  float dg = 0, du = 0;
  const float x = 0.0f, up1 = 3.0f, dh = 2.0f;
  cpu::geglu_backward(&dg, &du, &dh, &x, &up1, 1, Activation::Silu);
  EXPECT_FLOAT_EQ(dg, 3.0f);  // dh * up * silu'(0) = 2 * 3 * 0.5
  EXPECT_EQ(du, 0.0f);
}

TEST(GegluKnown, GradientAtZeroIsHalf) {
  const float gate = 0.0f, up = 3.0f, dh = 2.0f;
  for (Activation act : {Activation::GeluTanh, Activation::GeluExact}) {
    float dg = 0, du = 0;
    cpu::geglu_backward(&dg, &du, &dh, &gate, &up, 1, act);
    EXPECT_FLOAT_EQ(dg, 3.0f);  // dh * up * gelu'(0) = 2 * 3 * 0.5
    EXPECT_EQ(du, 0.0f);        // dh * gelu(0)
  }
}

}  // namespace
}  // namespace tune
