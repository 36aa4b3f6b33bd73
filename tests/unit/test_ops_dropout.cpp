// Tests for counter-based dropout: cpu vs reference masks, p = 0, keep rate, offsets, thread independence, errors.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/ops.h"
#include "kernels/reference/ops_ref.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

std::vector<uint8_t> cpu_mask(int64_t n, float p, uint64_t seed, uint64_t offset) {
  std::vector<uint8_t> m(n);
  cpu::dropout_mask(m.data(), n, p, seed, offset);
  return m;
}

TEST(DropoutMask, MatchesReference) {
  const int64_t n = 10007;
  std::vector<uint8_t> ref_m(n);
  ref::dropout_mask(ref_m.data(), n, 0.1f, 1234, 99);
  EXPECT_EQ(cpu_mask(n, 0.1f, 1234, 99), ref_m);
}

TEST(DropoutMask, ZeroProbabilityKeepsAll) { EXPECT_EQ(cpu_mask(4097, 0.0f, 7, 0), std::vector<uint8_t>(4097, 1)); }

TEST(DropoutMask, KeepRateIsOneMinusP) {
  const int64_t n = 200000;
  for (float p : {0.05f, 0.3f, 0.9f}) {
    const auto m = cpu_mask(n, p, 42, 0);
    int64_t kept = 0;
    for (uint8_t b : m) kept += b;
    const double sigma = std::sqrt(n * p * (1.0 - p));
    EXPECT_NEAR(double(kept), n * (1.0 - p), 5.0 * sigma) << p;
  }
}

TEST(DropoutMask, OffsetContinuesTheStreamAndSeedsDiffer) {
  const auto whole = cpu_mask(1000, 0.5f, 5, 0);
  const auto tail = cpu_mask(700, 0.5f, 5, 300);
  EXPECT_EQ(tail, std::vector<uint8_t>(whole.begin() + 300, whole.end()));
  const auto other = cpu_mask(1000, 0.5f, 6, 0);
  int64_t same = 0;
  for (int i = 0; i < 1000; ++i) same += whole[i] == other[i];
  EXPECT_GT(same, 400);
  EXPECT_LT(same, 600);
}

TEST(DropoutMask, IndependentOfThreadCount) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto one = cpu_mask(50001, 0.25f, 77, 11);
  omp_set_num_threads(3);
  const auto three = cpu_mask(50001, 0.25f, 77, 11);
  omp_set_num_threads(saved);
  EXPECT_EQ(one, three);
}

TEST(DropoutApply, ScalesKeptAndZeroesDropped) {
  const int64_t n = 1001;
  const float p = 0.2f;
  const auto x = test::random_vec(n, 3);
  const auto m = cpu_mask(n, p, 9, 0);
  std::vector<float> y(n), y_ref(n);
  cpu::dropout_apply(y.data(), x.data(), m.data(), n, p);
  ref::dropout_apply(y_ref.data(), x.data(), m.data(), n, p);
  EXPECT_EQ(y, y_ref);
  for (int64_t i = 0; i < n; ++i) EXPECT_FLOAT_EQ(y[i], m[i] ? x[i] / 0.8f : 0.0f) << i;
}

TEST(DropoutErrors, ProbabilityOutsideRangeThrows) {
  std::vector<uint8_t> m(4);
  std::vector<float> x(4, 1.0f), y(4);
  for (float p : {1.0f, -0.1f, 1.5f}) {
    EXPECT_THROW(cpu::dropout_mask(m.data(), 4, p, 1, 0), Error) << p;
    EXPECT_THROW(cpu::dropout_apply(y.data(), x.data(), m.data(), 4, p), Error) << p;
    EXPECT_THROW(ref::dropout_mask(m.data(), 4, p, 1, 0), Error) << p;
  }
}

}  // namespace
}  // namespace tune
