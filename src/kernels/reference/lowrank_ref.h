// Scalar reference for the low-rank matmuls of cpu/lowrank.cpp: the same products written as the nn.Linear
// reference matmuls they are special cases of.
#pragma once
#include <type_traits>

#include "kernels/reference/linear_ref.h"

namespace tune::ref {

// u[N,r] = alpha * x[N,K] . a[r,K]^T
template <class T>
void lowrank_down(T* u, const T* x, const T* a, int N, int K, int r, std::type_identity_t<T> alpha) {
  linear_forward(u, x, a, N, K, r, alpha, false);
}

// g[r,K] += alpha * u[N,r]^T . x[N,K]
template <class T>
void lowrank_outer_add(T* g, const T* u, const T* x, int N, int r, int K, std::type_identity_t<T> alpha) {
  linear_backward_weight(g, u, x, N, K, r, alpha);
}

}  // namespace tune::ref
