// Branch-free float exp, tanh and erf for SIMD loops: plain IEEE arithmetic (fma, selects, bit casts) that GCC
// vectorizes inside `#pragma omp simd`, where a libm call would keep the loop scalar. Coefficients are Lawson
// (iteratively reweighted least-squares) minimax fits done in 40-digit precision and rounded to float; the accuracy
// against libm over the whole float range is pinned by tests/unit/test_ops_vec_math.cpp.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>

namespace tune::cpu::vec {

// e^x with relative error below 2^-22 wherever the result is a normal float; 0 below ln(FLT_MIN) (no subnormal
// results), +inf above ln(FLT_MAX), NaN for NaN.
[[gnu::always_inline]] inline float exp(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;       // ln 2 = kLn2Hi + kLn2Lo; n * kLn2Hi is exact for |n| < 2^15
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kMinArg = -87.3365447505531f;  // ln(FLT_MIN)
  constexpr float kMagic = 12582912.0f;          // 1.5 * 2^23: adding and subtracting it rounds to an integer
  // e^r on [-ln2/2, ln2/2] (minimax, relative error 2e-9): 1 + r(c1 + r(c2 + ... r c6)).
  constexpr float c1 = 1.0f, c2 = 0.4999999403953552f, c3 = 0.16666431725025177f, c4 = 0.04166800156235695f,
                  c5 = 0.00837415736168623f, c6 = 0.0013843661872670054f;
  // x = n ln2 + r. The clamp keeps n in [-126, 128]; r comes from x itself so that NaN and +-inf propagate.
  const float xc = x > -87.5f ? (x < 88.8f ? x : 88.8f) : -87.5f;
  const float n = (xc * kLog2e + kMagic) - kMagic;
  const float r = std::fma(-n, kLn2Lo, std::fma(-n, kLn2Hi, x));
  float p = std::fma(c6, r, c5);
  p = std::fma(p, r, c4);
  p = std::fma(p, r, c3);
  p = std::fma(p, r, c2);
  p = std::fma(p, r, c1);
  p = std::fma(p, r, 1.0f);
  // 2^n as two normal factors so that n = 128 (results near FLT_MAX) still works; overflow gives +inf.
  const int32_t ni = static_cast<int32_t>(n);
  const int32_t na = ni >> 1;
  const float sa = std::bit_cast<float>((na + 127) << 23);
  const float sb = std::bit_cast<float>((ni - na + 127) << 23);
  const float y = p * sa * sb;
  return x < kMinArg ? 0.0f : y;
}

// tanh(x) with relative error below 4e-7 over the whole float range (+-1 from |x| = 10 on, NaN for NaN).
[[gnu::always_inline]] inline float tanh(float x) {
  // |x| < 0.625: tanh x = x + x^3 P(x^2) (minimax, relative error 4e-9).
  constexpr float p0 = -0.3333328068256378f, p1 = 0.13331441581249237f, p2 = -0.05373970419168472f,
                  p3 = 0.020639052614569664f, p4 = -0.00570494681596756f;
  const float a = std::fabs(x);
  const float s = x * x;
  float p = std::fma(p4, s, p3);
  p = std::fma(p, s, p2);
  p = std::fma(p, s, p1);
  p = std::fma(p, s, p0);
  const float small = std::fma(x * s, p, x);
  // Otherwise tanh|x| = (1 - e) / (1 + e) with e = exp(-2|x|) <= 0.29: no cancellation. |x| is capped at 10 (where
  // tanh rounds to 1) so that e stays a normal float.
  const float e = vec::exp(-2.0f * (a > 10.0f ? 10.0f : a));
  const float big = (1.0f - e) / (1.0f + e);
  return std::copysign(a < 0.625f ? small : big, x);  // also keeps tanh(-0) = -0
}

// erf(x) with relative error below 4e-7 over the whole float range (+-1 from |x| = 4 on, NaN for NaN).
[[gnu::always_inline]] inline float erf(float x) {
  // |x| < 1: erf x = x P(x^2) (minimax, relative error 4e-8).
  constexpr float p0 = 1.1283791065216064f, p1 = -0.37612324953079224f, p2 = 0.11280179768800735f,
                  p3 = -0.02671130560338497f, p4 = 0.004917542915791273f, p5 = -0.0005631385138258338f;
  // |x| >= 1: erfc|x| = exp(-x^2) Q(t), t = 1 / (1 + |x|/2), Q(t) = t(q1 + t(q2 + ...)) (minimax on [1, 4],
  // absolute error 1.3e-9). |x| is capped at 4, where erfc < 2e-8 and erf rounds to 1.
  constexpr float q1 = 0.27549195289611816f, q2 = 0.34226977825164795f, q3 = 0.029368244111537933f,
                  q4 = 0.5562300086021423f, q5 = -0.203299418091774f;
  const float a = std::fabs(x);
  const float s = x * x;
  float p = std::fma(p5, s, p4);
  p = std::fma(p, s, p3);
  p = std::fma(p, s, p2);
  p = std::fma(p, s, p1);
  p = std::fma(p, s, p0);
  const float small = x * p;
  const float ac = a > 4.0f ? 4.0f : a;
  const float t = 1.0f / std::fma(0.5f, ac, 1.0f);
  float q = std::fma(q5, t, q4);
  q = std::fma(q, t, q3);
  q = std::fma(q, t, q2);
  q = std::fma(q, t, q1);
  const float erfc = vec::exp(-ac * ac) * (q * t);
  const float big = std::copysign(1.0f - erfc, x);
  return a < 1.0f ? small : big;
}

}  // namespace tune::cpu::vec
