// Tests for the per-row LM-head log-likelihoods and logit sums: cpu vs reference (ignored labels, a row without
// targets, several chunks, soft-capped logits), the reference gradient of a weighted sum of row log-likelihoods vs finite differences,
// uniform logits = -n log V, and the row-scaled accumulation.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/lm_head_logps.h"
#include "kernels/reference/lm_head_logps_ref.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::max_rel_err;
using test::random_vec;

std::vector<int32_t> make_labels(int B, int T, int V, uint32_t seed) {
  return test::random_labels(B, T, V, seed, 0.3);
}

struct Size {
  int B, T, H, V;
  float softcap = 0.0f;  // > 0: Gemma 2's final logit soft-capping
};

class RowLogpsParity : public ::testing::TestWithParam<Size> {};

TEST_P(RowLogpsParity, MatchesReference) {
  const auto [B, T, H, V, cap] = GetParam();
  const size_t nh = size_t(B) * T * H;
  const auto h = random_vec(nh, 1, -2.0, 2.0), E = random_vec(size_t(V) * H, 2);
  const auto labels = make_labels(B, T, V, 3);
  std::vector<double> lp(B), lp_ref(B), sums(B), sums_ref(B);
  std::vector<int64_t> n(B, -1), n_ref(B, -2);
  auto dh = random_vec(nh, 4), dh_ref = dh;  // += onto a nonzero buffer
  cpu::lm_head_row_logps(lp.data(), n.data(), dh.data(), h.data(), E.data(), labels.data(), B, T, H, V, cap);
  ref::lm_head_row_logps<float>(lp_ref.data(), n_ref.data(), dh_ref.data(), h.data(), E.data(), labels.data(), B, T,
                                H, V, cap);
  EXPECT_EQ(n, n_ref);
  for (int b = 0; b < B; ++b) EXPECT_NEAR(lp[b], lp_ref[b], 1e-5 * std::max(1.0, std::fabs(lp_ref[b]))) << b;
  if (B > 1) EXPECT_EQ(lp[1], 0.0);  // no targets
  EXPECT_LE(max_rel_err(dh, dh_ref), 1e-5);

  cpu::lm_head_logit_sums(sums.data(), h.data(), E.data(), B, T, H, V, cap);
  ref::lm_head_logit_sums<double>(sums_ref.data(), test::convert<double>(h).data(), test::convert<double>(E).data(),
                                  B, T, H, V, cap);
  for (int b = 0; b < B; ++b) EXPECT_NEAR(sums[b], sums_ref[b], 1e-5 * std::max(1.0, std::fabs(sums_ref[b]))) << b;
}

INSTANTIATE_TEST_SUITE_P(Sizes, RowLogpsParity,
                         ::testing::Values(Size{1, 2, 1, 2}, Size{3, 6, 16, 37},
                                           Size{2, 900, 8, 50},  // > 512 targets in row 0: several chunks
                                           Size{4, 33, 5, 301}, Size{3, 6, 16, 37, 2.0f},
                                           Size{2, 40, 8, 50, 0.5f}));

// d(Σ_b w_b logp_b)/dh of the double reference equals central differences, plain and soft-capped.
class RowLogpsGrad : public ::testing::TestWithParam<double> {};

TEST_P(RowLogpsGrad, ReferenceMatchesFiniteDifferences) {
  const int B = 3, T = 5, H = 4, V = 7;
  const double cap = GetParam();
  auto h = random_vec<double>(size_t(B) * T * H, 11, -1.5, 1.5);
  const auto E = random_vec<double>(size_t(V) * H, 12);
  auto labels = make_labels(B, T, V, 13);
  labels[T + 2] = 3;  // row 1 gets one target
  const std::vector<double> w = {0.7, -1.3, 2.1};
  auto weighted = [&] {
    std::vector<double> lp(B);
    std::vector<int64_t> n(B);
    ref::lm_head_row_logps<double>(lp.data(), n.data(), nullptr, h.data(), E.data(), labels.data(), B, T, H, V, cap);
    double s = 0;
    for (int b = 0; b < B; ++b) s += w[b] * lp[b];
    return s;
  };
  std::vector<double> lp(B), unit(h.size(), 0.0), dh(h.size(), 0.0);
  std::vector<int64_t> n(B);
  ref::lm_head_row_logps<double>(lp.data(), n.data(), unit.data(), h.data(), E.data(), labels.data(), B, T, H, V, cap);
  const std::vector<double> unit_f(unit.begin(), unit.end());
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < T * H; ++i) dh[size_t(b) * T * H + i] = w[b] * unit_f[size_t(b) * T * H + i];
  EXPECT_LE(max_rel_err(dh, test::numeric_grad(h, weighted)), 1e-7);
}

INSTANTIATE_TEST_SUITE_P(Caps, RowLogpsGrad, ::testing::Values(0.0, 1.5));

// All-zero hidden states give uniform logits: each target has log-prob -log V, and every logit is 0.
TEST(RowLogps, UniformLogitsGiveMinusLogV) {
  const int B = 2, T = 4, H = 3, V = 11;
  const std::vector<float> h(size_t(B) * T * H, 0.0f), E = random_vec(size_t(V) * H, 5);
  const std::vector<int32_t> labels = {-100, 1, 2, 3, -100, -100, 4, -100};
  std::vector<double> lp(B), sums(B);
  std::vector<int64_t> n(B);
  cpu::lm_head_row_logps(lp.data(), n.data(), nullptr, h.data(), E.data(), labels.data(), B, T, H, V, 0.0f);
  EXPECT_EQ(n[0], 3);
  EXPECT_EQ(n[1], 1);
  EXPECT_NEAR(lp[0], -3 * std::log(11.0), 1e-6);
  EXPECT_NEAR(lp[1], -std::log(11.0), 1e-6);
  cpu::lm_head_logit_sums(sums.data(), h.data(), E.data(), B, T, H, V, 0.0f);
  EXPECT_EQ(sums[0], 0.0);
}

TEST(AddRowScaled, ScalesEachRow) {
  const int B = 2, T = 2, H = 2;
  std::vector<float> dst = {1, 1, 1, 1, 1, 1, 1, 1};
  const std::vector<float> src = {1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<double> w = {0.5, -2.0};
  cpu::add_row_scaled(dst.data(), src.data(), w.data(), B, T, H);
  EXPECT_EQ(dst, (std::vector<float>{1.5f, 2, 2.5f, 3, -9, -11, -13, -15}));
}

}  // namespace
}  // namespace tune
