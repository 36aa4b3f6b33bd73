// Shared helpers for the op tests: seeded random buffers and labels, max-relative errors, and central finite differences.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace tune::test {

// n values uniform in [lo, hi), reproducible from seed.
template <class T = float>
std::vector<T> random_vec(size_t n, uint32_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = T(dist(gen));
  return v;
}

// labels[B,T] in [0, V) with a share `ignored` of -100 sprinkled in; row 1 (if any) is entirely -100.
inline std::vector<int32_t> random_labels(int B, int T, int V, uint32_t seed, double ignored) {
  const auto u = random_vec<double>(size_t(B) * T, seed, 0.0, 1.0);
  std::vector<int32_t> labels(size_t(B) * T);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = u[i] < ignored ? -100 : int32_t(u[i] * 7919) % V;
  if (B > 1)
    for (int t = 0; t < T; ++t) labels[T + t] = -100;
  return labels;
}

template <class To, class From>
std::vector<To> convert(const std::vector<From>& v) {
  return std::vector<To>(v.begin(), v.end());
}

// max |got - want| / max |want| (or the plain max abs error when want is all zero).
template <class A, class B>
double max_rel_err(const std::vector<A>& got, const std::vector<B>& want) {
  if (got.size() != want.size()) return INFINITY;
  double err = 0.0, scale = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    err = std::max(err, std::fabs(double(got[i]) - double(want[i])));
    scale = std::max(scale, std::fabs(double(want[i])));
  }
  return scale > 0.0 ? err / scale : err;
}

// sum(out * r): the scalar loss whose gradient w.r.t. out is r.
inline double project(const std::vector<double>& out, const std::vector<double>& r) {
  double s = 0.0;
  for (size_t i = 0; i < out.size(); ++i) s += out[i] * r[i];
  return s;
}

// Central differences dL/dx[i] = (L(x + h e_i) - L(x - h e_i)) / 2h; loss() reads x, which is restored afterwards.
template <class Loss>
std::vector<double> numeric_grad(std::vector<double>& x, Loss&& loss, double h = 1e-6) {
  std::vector<double> g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double x0 = x[i];
    x[i] = x0 + h;
    const double up = loss();
    x[i] = x0 - h;
    const double down = loss();
    x[i] = x0;
    g[i] = (up - down) / (2.0 * h);
  }
  return g;
}

}  // namespace tune::test
