// Scalar reference for the nn.Linear matmuls (W is [out, in]): naive triple loops, the oracle for cpu/linear.cpp.
#pragma once
#include <cstdint>
#include <type_traits>

namespace tune::ref {

// y[N,out] (= or +=) alpha * x[N,in] . W[out,in]^T
template <class T>
void linear_forward(T* y, const T* x, const T* w, int N, int in, int out, std::type_identity_t<T> alpha,
                    bool accumulate) {
  for (int n = 0; n < N; ++n)
    for (int o = 0; o < out; ++o) {
      T acc = 0;
      for (int i = 0; i < in; ++i) acc += x[int64_t(n) * in + i] * w[int64_t(o) * in + i];
      T& dst = y[int64_t(n) * out + o];
      dst = accumulate ? dst + alpha * acc : alpha * acc;
    }
}

// dx[N,in] (= or +=) alpha * dy[N,out] . W[out,in]
template <class T>
void linear_backward_input(T* dx, const T* dy, const T* w, int N, int in, int out, std::type_identity_t<T> alpha,
                           bool accumulate) {
  for (int n = 0; n < N; ++n)
    for (int i = 0; i < in; ++i) {
      T acc = 0;
      for (int o = 0; o < out; ++o) acc += dy[int64_t(n) * out + o] * w[int64_t(o) * in + i];
      T& dst = dx[int64_t(n) * in + i];
      dst = accumulate ? dst + alpha * acc : alpha * acc;
    }
}

// dW[out,in] += alpha * dy[N,out]^T . x[N,in]
template <class T>
void linear_backward_weight(T* dw, const T* dy, const T* x, int N, int in, int out, std::type_identity_t<T> alpha) {
  for (int o = 0; o < out; ++o)
    for (int i = 0; i < in; ++i) {
      T acc = 0;
      for (int n = 0; n < N; ++n) acc += dy[int64_t(n) * out + o] * x[int64_t(n) * in + i];
      dw[int64_t(o) * in + i] += alpha * acc;
    }
}

// C[M,N] = alpha * op(A)[M,K] . op(B)[K,N] + beta * C, row-major, op = transpose when trans_* (the oracle for
// cpu::sgemm; cpu::sgemv is the trans_b = false, N = 1 case).
template <class T>
void gemm(bool trans_a, bool trans_b, int M, int N, int K, std::type_identity_t<T> alpha, const T* A, int lda,
          const T* B, int ldb, std::type_identity_t<T> beta, T* C, int ldc) {
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      T acc = 0;
      for (int k = 0; k < K; ++k)
        acc += (trans_a ? A[int64_t(k) * lda + i] : A[int64_t(i) * lda + k]) *
               (trans_b ? B[int64_t(j) * ldb + k] : B[int64_t(k) * ldb + j]);
      T& dst = C[int64_t(i) * ldc + j];
      dst = alpha * acc + (beta == 0 ? T(0) : beta * dst);
    }
}

}  // namespace tune::ref
