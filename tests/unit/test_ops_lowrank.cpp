// Tests for the low-rank (LoRA branch) matmuls: cpu vs reference over ranks on both sides of the loop/sgemm switch,
// row counts that leave a partial 4-row block, widths that leave a partial column tile; known values.
#include <gtest/gtest.h>

#include <vector>

#include "kernels/cpu/ops.h"
#include "kernels/reference/ops_ref.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::max_rel_err;
using test::random_vec;

struct LowrankSize {
  int N, K, r;
};

class LowrankParity : public ::testing::TestWithParam<LowrankSize> {};

TEST_P(LowrankParity, MatchesReference) {
  const auto [N, K, r] = GetParam();
  const auto x = random_vec(size_t(N) * K, 1), a = random_vec(size_t(r) * K, 2), u = random_vec(size_t(N) * r, 3);

  std::vector<float> d(size_t(N) * r, 9.0f), d_ref(d.size());  // overwritten
  cpu::lowrank_down(d.data(), x.data(), a.data(), N, K, r, 0.5f);
  ref::lowrank_down(d_ref.data(), x.data(), a.data(), N, K, r, 0.5f);
  EXPECT_LE(max_rel_err(d, d_ref), 1e-5) << "down";

  auto g = random_vec(size_t(r) * K, 5), g_ref = g;  // accumulated into
  cpu::lowrank_outer_add(g.data(), u.data(), x.data(), N, r, K, 0.75f);
  ref::lowrank_outer_add(g_ref.data(), u.data(), x.data(), N, r, K, 0.75f);
  EXPECT_LE(max_rel_err(g, g_ref), 1e-5) << "outer_add";
}

INSTANTIATE_TEST_SUITE_P(Sizes, LowrankParity,
                         ::testing::Values(LowrankSize{1, 1, 1}, LowrankSize{3, 7, 2},     // fewer rows than a block
                                           LowrankSize{9, 5, 8},                           // one partial block
                                           LowrankSize{64, 1100, 8},                       // partial column tile
                                           LowrankSize{130, 512, 16}, LowrankSize{37, 300, 32},
                                           LowrankSize{21, 70, 33}, LowrankSize{50, 600, 64}));  // sgemm ranks

TEST(LowrankKnown, SmallProducts) {
  // x = [[1, 2], [3, 4]], a = [[1, 0], [1, 1]] (r = 2, K = 2)
  const std::vector<float> x = {1, 2, 3, 4}, a = {1, 0, 1, 1};
  std::vector<float> u(4);
  cpu::lowrank_down(u.data(), x.data(), a.data(), 2, 2, 2, 2.0f);
  EXPECT_EQ(u, (std::vector<float>{2, 6, 6, 14}));  // 2 * x . a^T
  std::vector<float> g = {0, 0, 0, 0};
  cpu::lowrank_outer_add(g.data(), x.data(), a.data(), 2, 2, 2, 1.0f);
  EXPECT_EQ(g, (std::vector<float>{4, 3, 6, 4}));  // x^T . a
}

}  // namespace
}  // namespace tune
