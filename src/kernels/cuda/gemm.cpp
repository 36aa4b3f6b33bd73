// Row-major nn.Linear products mapped onto column-major cublasGemmEx (a row-major [r, c] buffer is the column-major
// [c, r] matrix, its transpose), CUBLAS_COMPUTE_32F throughout.
#include "kernels/cuda/gemm.h"

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/storage.h"

namespace tune::cuda {
namespace {

cudaDataType_t cuda_type(DType t, const char* op) {
  storage_bytes(t, op);
  return t == DType::F32 ? CUDA_R_32F : t == DType::BF16 ? CUDA_R_16BF : CUDA_R_16F;
}

// C (m x n, ldc = m) = alpha op(A) op(B) + beta C in column-major terms; A, B of type t, C of type ct.
void gemm(Blas& blas, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha, const void* a,
          int lda, const void* b, int ldb, float beta, void* c, DType t, DType ct, const char* op) {
  TUNE_CHECK(ct == t || ct == DType::F32, op, ": the output must be stored in the inputs' type or in F32");
  TUNE_CHECK(m >= 0 && n >= 0 && k >= 0, op, ": negative matrix size");
  if (m == 0 || n == 0) return;
  if (k == 0) {  // an empty sum: C = beta C, which cuBLAS may not do for k = 0
    if (beta == 0.0f) TUNE_CUDA_CHECK(cudaMemsetAsync(c, 0, size_t(m) * n * storage_bytes(ct, op), blas.stream()));
    TUNE_CHECK(beta == 0.0f || beta == 1.0f, op, ": k = 0 with beta ", beta);
    return;
  }
  TUNE_CUBLAS_CHECK(cublasGemmEx(blas.handle(), ta, tb, m, n, k, &alpha, a, cuda_type(t, op), lda, b, cuda_type(t, op),
                                 ldb, &beta, c, cuda_type(ct, op), m, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

}  // namespace

Blas::Blas(cudaStream_t stream) : stream_(stream) {
  TUNE_CUBLAS_CHECK(cublasCreate(&handle_));
  TUNE_CUBLAS_CHECK(cublasSetStream(handle_, stream_));
  TUNE_CUBLAS_CHECK(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH));  // no TF32 for fp32 inputs
}

Blas::~Blas() {
  if (handle_) cublasDestroy(handle_);
}

void linear_forward(Blas& blas, void* y, DType yt, const void* x, const void* w, DType t, int N, int in, int out,
                    float alpha, bool accumulate) {
  // y^T (out x N) = W (out x in) . x^T (in x N); the W buffer is W^T col-major (ld in), x's is x^T (ld in).
  gemm(blas, CUBLAS_OP_T, CUBLAS_OP_N, out, N, in, alpha, w, in, x, in, accumulate ? 1.0f : 0.0f, y, t, yt,
       "linear_forward");
}

void linear_backward_input(Blas& blas, void* dx, DType dxt, const void* dy, const void* w, DType t, int N, int in,
                           int out, float alpha, bool accumulate) {
  // dx^T (in x N) = W^T (in x out) . dy^T (out x N)
  gemm(blas, CUBLAS_OP_N, CUBLAS_OP_N, in, N, out, alpha, w, in, dy, out, accumulate ? 1.0f : 0.0f, dx, t, dxt,
       "linear_backward_input");
}

void linear_backward_weight(Blas& blas, void* dw, DType dwt, const void* dy, const void* x, DType t, int N, int in,
                            int out, float alpha) {
  // dW^T (in x out) += x^T (in x N) . dy (N x out); dy's buffer is dy^T col-major (ld out), so op T.
  gemm(blas, CUBLAS_OP_N, CUBLAS_OP_T, in, out, N, alpha, x, in, dy, out, 1.0f, dw, t, dwt, "linear_backward_weight");
}

}  // namespace tune::cuda
