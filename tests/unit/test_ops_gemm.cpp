// cpu::sgemm / cpu::sgemv (the team-threaded OpenBLAS entry): values against the scalar reference for every transpose
// and both split directions, bit-identical results for 1, 2 and 3 threads, the block count rule, and the OpenMP
// count left as it was.
#include <gtest/gtest.h>
#include <omp.h>

#include <vector>

#include "core/threads.h"
#include "kernels/cpu/gemm.h"
#include "kernels/reference/linear_ref.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::max_rel_err;
using test::random_vec;

// Runs f with the OpenMP count n, then restores the count.
template <class F>
void with_threads(int n, F&& f) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(n);
  f();
  omp_set_num_threads(saved);
}

struct GemmCase {
  bool trans_a, trans_b;
  int M, N, K;  // M*N*K >= 2 * kMinParallelMacs for every case: the product is cut into blocks
};

class GemmThreads : public ::testing::TestWithParam<GemmCase> {};

TEST_P(GemmThreads, MatchesReferenceAndIsTheSameForAnyThreadCount) {
  const auto [ta, tb, M, N, K] = GetParam();
  ASSERT_GE(double(M) * N * K, 2.0 * kMinParallelMacs);
  const int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;  // padded strides
  const auto A = random_vec(size_t(ta ? K : M) * lda, 1), B = random_vec(size_t(tb ? N : K) * ldb, 2);
  const auto C0 = random_vec(size_t(M) * ldc, 3);
  std::vector<double> want(C0.begin(), C0.end());
  const std::vector<double> Ad(A.begin(), A.end()), Bd(B.begin(), B.end());
  ref::gemm<double>(ta, tb, M, N, K, 0.5, Ad.data(), lda, Bd.data(), ldb, -1.25, want.data(), ldc);

  std::vector<std::vector<float>> got;
  for (int threads : {1, 2, 3})
    with_threads(threads, [&] {
      auto C = C0;
      cpu::sgemm(ta, tb, M, N, K, 0.5f, A.data(), lda, B.data(), ldb, -1.25f, C.data(), ldc);
      EXPECT_EQ(omp_get_max_threads(), threads) << "the OpenMP count is restored";
      got.push_back(C);
    });
  EXPECT_LE(max_rel_err(got[0], want), 1e-4);
  EXPECT_EQ(got[1], got[0]) << "2 threads";
  EXPECT_EQ(got[2], got[0]) << "3 threads";
}

INSTANTIATE_TEST_SUITE_P(Shapes, GemmThreads,
                         ::testing::Values(GemmCase{false, true, 530, 70, 130},   // rows split (nn.Linear forward)
                                           GemmCase{false, false, 517, 61, 150},  // rows split, odd edges
                                           GemmCase{true, false, 70, 530, 130},   // columns split (weight grad)
                                           GemmCase{true, true, 45, 901, 150},    // columns split, both transposed
                                           GemmCase{false, true, 1000, 64, 200}));

TEST(Gemv, MatchesReferenceAndIsTheSameForAnyThreadCount) {
  const int M = 5003, N = 1001, lda = N + 5;  // 5M multiply-adds: 2 blocks
  const auto A = random_vec(size_t(M) * lda, 4), x = random_vec(size_t(N), 5), y0 = random_vec(size_t(M), 6);
  std::vector<double> want(y0.begin(), y0.end());
  const std::vector<double> Ad(A.begin(), A.end()), xd(x.begin(), x.end());
  ref::gemm<double>(false, false, M, 1, N, 2.0, Ad.data(), lda, xd.data(), 1, 1.0, want.data(), 1);
  std::vector<std::vector<float>> got;
  for (int threads : {1, 2, 3})
    with_threads(threads, [&] {
      auto y = y0;
      cpu::sgemv(M, N, 2.0f, A.data(), lda, x.data(), 1.0f, y.data());
      got.push_back(y);
    });
  EXPECT_LE(max_rel_err(got[0], want), 1e-4);
  EXPECT_EQ(got[1], got[0]);
  EXPECT_EQ(got[2], got[0]);
}

TEST(GemmParts, OneBlockPerMinimumUpToTheTeam) {
  const double unit = double(kMinParallelMacs);
  with_threads(3, [&] {
    EXPECT_EQ(cpu::gemm_parts(1.99 * unit), 1);  // below two blocks: no region
    EXPECT_EQ(cpu::gemm_parts(2.0 * unit), 2);
    EXPECT_EQ(cpu::gemm_parts(2.9 * unit), 2);
    EXPECT_EQ(cpu::gemm_parts(100 * unit), 3);  // at most the team
    int inside = 0;
#pragma omp parallel num_threads(2)
    if (omp_get_thread_num() == 0) inside = cpu::gemm_parts(100 * unit);
    EXPECT_EQ(inside, 1) << "a product inside a parallel region runs on its thread";
  });
  with_threads(1, [&] { EXPECT_EQ(cpu::gemm_parts(100 * unit), 1); });
}

TEST(GemmKnown, SmallProductIsExact) {
  const std::vector<float> A = {1, 2, 3, 4, 5, 6};    // [2, 3]
  const std::vector<float> B = {1, 0, 0, 1, 1, 1};    // [3, 2]
  std::vector<float> C = {10, 20, 30, 40};           // [2, 2]
  cpu::sgemm(false, false, 2, 2, 3, 1.0f, A.data(), 3, B.data(), 2, 0.5f, C.data(), 2);
  EXPECT_EQ(C, (std::vector<float>{4 + 5, 5 + 10, 10 + 15, 11 + 20}));
}

}  // namespace
}  // namespace tune
