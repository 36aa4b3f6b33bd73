#include "kernels/cpu/gemm.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "core/threads.h"

namespace tune::cpu {

namespace {

// Block edges in rows (or columns) of C: a multiple of the widest SGEMM micro-tile, so only the last block has an edge.
constexpr int kBlockAlign = 16;

// [begin, end) of block p of `parts` over n, aligned to kBlockAlign.
void block_range(int n, int parts, int p, int* begin, int* end) {
  int step = (n + parts - 1) / parts;
  step = std::max(kBlockAlign, (step + kBlockAlign - 1) / kBlockAlign * kBlockAlign);
  *begin = std::min(n, p * step);
  *end = std::min(n, *begin + step);
}

CBLAS_TRANSPOSE op(bool trans) { return trans ? CblasTrans : CblasNoTrans; }

// The OpenMP count at 1 while it lives: OpenBLAS's OpenMP build threads a call by omp_get_max_threads() (from 2^18
// multiply-adds on), so a product that runs on the calling thread must be called with a count of 1.
class SerialBlas {
 public:
  SerialBlas() : saved_(omp_get_max_threads()) {
    if (saved_ > 1) omp_set_num_threads(1);
  }
  ~SerialBlas() {
    if (saved_ > 1) omp_set_num_threads(saved_);
  }
  SerialBlas(const SerialBlas&) = delete;
  SerialBlas& operator=(const SerialBlas&) = delete;

 private:
  int saved_;
};

}  // namespace

int gemm_parts(double work) {
  const int team = omp_in_parallel() ? 1 : omp_get_max_threads();
  const double blocks = work / double(kMinParallelMacs);
  if (team == 1 || blocks < 2) return 1;
  return blocks >= team ? team : int(blocks);
}

void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
           int ldb, float beta, float* C, int ldc) {
  if (M == 0 || N == 0) return;
  const bool split_rows = M >= N;  // blocks of rows of C (rows of op(A)) or of columns (columns of op(B))
  const int span = split_rows ? M : N;
  const int parts = std::min(gemm_parts(double(M) * N * K), (span + kBlockAlign - 1) / kBlockAlign);
  if (parts <= 1) {
    const SerialBlas serial;
    cblas_sgemm(CblasRowMajor, op(trans_a), op(trans_b), M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
#pragma omp parallel for num_threads(parts) schedule(static)
  for (int p = 0; p < parts; ++p) {
    int b = 0, e = 0;
    block_range(span, parts, p, &b, &e);
    if (b == e) continue;
    if (split_rows) {
      const float* Ab = trans_a ? A + b : A + int64_t(b) * lda;
      cblas_sgemm(CblasRowMajor, op(trans_a), op(trans_b), e - b, N, K, alpha, Ab, lda, B, ldb, beta,
                  C + int64_t(b) * ldc, ldc);
    } else {
      const float* Bb = trans_b ? B + int64_t(b) * ldb : B + b;
      cblas_sgemm(CblasRowMajor, op(trans_a), op(trans_b), M, e - b, K, alpha, A, lda, Bb, ldb, beta, C + b, ldc);
    }
  }
}

void sgemv(int M, int N, float alpha, const float* A, int lda, const float* x, float beta, float* y) {
  if (M == 0) return;
  const int parts = std::min(gemm_parts(double(M) * N), (M + kBlockAlign - 1) / kBlockAlign);
  if (parts <= 1) {
    const SerialBlas serial;
    cblas_sgemv(CblasRowMajor, CblasNoTrans, M, N, alpha, A, lda, x, 1, beta, y, 1);
    return;
  }
#pragma omp parallel for num_threads(parts) schedule(static)
  for (int p = 0; p < parts; ++p) {
    int b = 0, e = 0;
    block_range(M, parts, p, &b, &e);
    if (b < e)
      cblas_sgemv(CblasRowMajor, CblasNoTrans, e - b, N, alpha, A + int64_t(b) * lda, lda, x, 1, beta, y + b, 1);
  }
}

}  // namespace tune::cpu
