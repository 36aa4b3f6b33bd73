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

}  // namespace tune::ref
