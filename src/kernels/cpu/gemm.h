// Row-major SGEMM / SGEMV threaded by tune's OpenMP team, not by OpenBLAS (always called single-threaded): a
// product of fewer than 2 * kMinParallelMacs multiply-adds runs on the calling thread; a larger one is cut into
// blocks of whole rows (or columns) of C, one single-threaded OpenBLAS call per block in one parallel region, a block
// per kMinParallelMacs up to the team size. Every C element is one OpenBLAS call's dot product over the full K, so
// the thread count never changes a result.
#pragma once

namespace tune::cpu {

// C[M,N] = alpha * op(A)[M,K] . op(B)[K,N] + beta * C, where op(A) = A[M,lda] or, trans_a, A[K,lda] transposed
// (likewise B), C[M,ldc].
void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
           int ldb, float beta, float* C, int ldc);

// y[M] = alpha * A[M,lda] . x[N] + beta * y.
void sgemv(int M, int N, float alpha, const float* A, int lda, const float* x, float beta, float* y);

// How many blocks a product of `work` multiply-adds is cut into: one per kMinParallelMacs, at most the team size;
// 1 (no region) below two blocks or inside a parallel region.
int gemm_parts(double work);

}  // namespace tune::cpu
