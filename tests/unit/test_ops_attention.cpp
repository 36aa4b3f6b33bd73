// Tests for masked GQA attention: cpu vs reference (odd sizes, MQA/GQA/MHA, padding, an all-masked row, sliding
// windows, soft-capping), reference backward vs finite differences (with and without window and soft-capping), and
// known values (one allowed key copies v; masked rows are zero; a window of 1 sees only the query's own key).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/ops.h"
#include "kernels/reference/ops_ref.h"
#include "unit/attention_test_mask.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::max_rel_err;
using test::random_vec;

struct AttnSize {
  int B, T, Nq, Nkv, D;
};

class AttentionParity : public ::testing::TestWithParam<AttnSize> {};

TEST_P(AttentionParity, ForwardAndBackwardMatchReference) {
  const auto [B, T, Nq, Nkv, D] = GetParam();
  const float scale = 1.0f / std::sqrt(float(D));
  const size_t nq = size_t(B) * T * Nq * D, nkv = size_t(B) * T * Nkv * D, np = size_t(B) * Nq * T * T;
  const auto q = random_vec(nq, 1, -2.0, 2.0), k = random_vec(nkv, 2, -2.0, 2.0), v = random_vec(nkv, 3);
  const auto dout = random_vec(nq, 4);
  const auto mask = test::attention_test_mask(B, T);

  std::vector<float> out(nq), probs(np, 7.0f), out_ref(nq), probs_ref(np);
  cpu::attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), mask.data(), B, T, Nq, Nkv, D, scale, 0, 0.0f);
  ref::attention_forward(out_ref.data(), probs_ref.data(), q.data(), k.data(), v.data(), mask.data(), B, T, Nq, Nkv, D,
                         scale);
  EXPECT_LE(max_rel_err(out, out_ref), 1e-5);
  EXPECT_LE(max_rel_err(probs, probs_ref), 1e-5);

  std::vector<float> dq(nq, 5.0f), dk(nkv, 5.0f), dv(nkv, 5.0f), dq_ref(nq), dk_ref(nkv), dv_ref(nkv);
  cpu::attention_backward(dq.data(), dk.data(), dv.data(), dout.data(), probs.data(), q.data(), k.data(), v.data(), B,
                          T, Nq, Nkv, D, scale, 0.0f);
  ref::attention_backward(dq_ref.data(), dk_ref.data(), dv_ref.data(), dout.data(), probs_ref.data(), q.data(),
                          k.data(), v.data(), B, T, Nq, Nkv, D, scale);
  EXPECT_LE(max_rel_err(dq, dq_ref), 1e-5);
  EXPECT_LE(max_rel_err(dk, dk_ref), 1e-5);
  EXPECT_LE(max_rel_err(dv, dv_ref), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Sizes, AttentionParity,
                         ::testing::Values(AttnSize{1, 1, 1, 1, 2},      // T = 1, D = 2
                                           AttnSize{2, 7, 4, 2, 8},      // GQA groups of 2, left padding
                                           AttnSize{3, 5, 4, 1, 4},      // MQA, a row with no real token
                                           AttnSize{4, 9, 3, 3, 5},      // MHA, odd D, a mask with holes
                                           AttnSize{2, 33, 8, 2, 16}));  // GQA groups of 4

// A caller-kept dS scratch, reused across calls of different lengths, gives bit-identical gradients to a fresh one.
TEST(AttentionScratch, ReuseAcrossLengthsMatchesFreshBuffers) {
  std::vector<float> ds_scratch;
  for (const AttnSize& c : {AttnSize{2, 33, 8, 2, 16}, AttnSize{3, 5, 4, 1, 4}, AttnSize{2, 33, 8, 2, 16}}) {
    const size_t nq = size_t(c.B) * c.T * c.Nq * c.D, nkv = size_t(c.B) * c.T * c.Nkv * c.D;
    const auto q = random_vec(nq, 51), k = random_vec(nkv, 52), v = random_vec(nkv, 53), dout = random_vec(nq, 54);
    const auto mask = test::attention_test_mask(c.B, c.T);
    std::vector<float> out(nq), probs(size_t(c.B) * c.Nq * c.T * c.T);
    cpu::attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), mask.data(), c.B, c.T, c.Nq, c.Nkv,
                           c.D, 0.5f, 0, 0.0f);
    std::vector<float> dq(nq), dk(nkv), dv(nkv), dq2(nq), dk2(nkv), dv2(nkv);
    cpu::attention_backward(dq.data(), dk.data(), dv.data(), dout.data(), probs.data(), q.data(), k.data(), v.data(),
                            c.B, c.T, c.Nq, c.Nkv, c.D, 0.5f, 0.0f);
    cpu::attention_backward(dq2.data(), dk2.data(), dv2.data(), dout.data(), probs.data(), q.data(), k.data(),
                            v.data(), c.B, c.T, c.Nq, c.Nkv, c.D, 0.5f, 0.0f, &ds_scratch);
    EXPECT_EQ(dq, dq2) << "T = " << c.T;
    EXPECT_EQ(dk, dk2) << "T = " << c.T;
    EXPECT_EQ(dv, dv2) << "T = " << c.T;
  }
}

TEST(AttentionGrad, ReferenceBackwardMatchesFiniteDifferences) {
  const int B = 3, T = 4, Nq = 4, Nkv = 2, D = 3;
  const double scale = 0.6;
  const size_t nq = size_t(B) * T * Nq * D, nkv = size_t(B) * T * Nkv * D;
  auto q = random_vec<double>(nq, 41), k = random_vec<double>(nkv, 42), v = random_vec<double>(nkv, 43);
  const auto r = random_vec<double>(nq, 44);
  const auto mask = test::attention_test_mask(B, T);
  std::vector<double> out(nq), probs(size_t(B) * Nq * T * T);
  auto loss = [&] {
    ref::attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), mask.data(), B, T, Nq, Nkv, D,
                           scale);
    return test::project(out, r);
  };
  loss();
  std::vector<double> dq(nq), dk(nkv), dv(nkv);
  ref::attention_backward(dq.data(), dk.data(), dv.data(), r.data(), probs.data(), q.data(), k.data(), v.data(), B, T,
                          Nq, Nkv, D, scale);
  EXPECT_LE(max_rel_err(dq, test::numeric_grad(q, loss)), 1e-7);
  EXPECT_LE(max_rel_err(dk, test::numeric_grad(k, loss)), 1e-7);
  EXPECT_LE(max_rel_err(dv, test::numeric_grad(v, loss)), 1e-7);
}

TEST(AttentionKnown, SingleAllowedKeyCopiesValue) {
  // Keys 0, 1 are padding and key 3 is padding: query 2 sees only key 2, query 3 too, query 0/1 see nothing.
  const int B = 1, T = 4, Nq = 2, Nkv = 1, D = 3;
  const auto q = random_vec(size_t(T) * Nq * D, 51), k = random_vec(size_t(T) * Nkv * D, 52);
  const auto v = random_vec(size_t(T) * Nkv * D, 53);
  const std::vector<uint8_t> mask = {0, 0, 1, 0};
  std::vector<float> out(q.size()), probs(size_t(Nq) * T * T);
  cpu::attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), mask.data(), B, T, Nq, Nkv, D, 0.5f, 0, 0.0f);
  for (int h = 0; h < Nq; ++h) {
    for (int d = 0; d < D; ++d) {
      EXPECT_EQ(out[(0 * Nq + h) * D + d], 0.0f);
      EXPECT_EQ(out[(1 * Nq + h) * D + d], 0.0f);
      EXPECT_FLOAT_EQ(out[(2 * Nq + h) * D + d], v[2 * D + d]);
      EXPECT_FLOAT_EQ(out[(3 * Nq + h) * D + d], v[2 * D + d]);
    }
    EXPECT_EQ(probs[(h * T + 3) * T + 2], 1.0f);
    EXPECT_EQ(probs[(h * T + 0) * T + 0], 0.0f);
  }
}

TEST(AttentionKnown, FirstQueryCopiesFirstValueAndRowsSumToOne) {
  const int B = 2, T = 6, Nq = 4, Nkv = 2, D = 5;
  const auto q = random_vec(size_t(B) * T * Nq * D, 61), k = random_vec(size_t(B) * T * Nkv * D, 62);
  const auto v = random_vec(size_t(B) * T * Nkv * D, 63);
  const std::vector<uint8_t> mask(size_t(B) * T, 1);
  std::vector<float> out(q.size()), probs(size_t(B) * Nq * T * T);
  cpu::attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), mask.data(), B, T, Nq, Nkv, D, 0.3f, 0, 0.0f);
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < Nq; ++h) {
      for (int d = 0; d < D; ++d)  // query 0 sees only key 0; head h reads kv head h / 2
        EXPECT_FLOAT_EQ(out[((b * T + 0) * Nq + h) * D + d], v[((b * T + 0) * Nkv + h / 2) * D + d]);
      for (int i = 0; i < T; ++i) {
        double sum = 0.0;
        for (int j = 0; j < T; ++j) sum += probs[((b * Nq + h) * T + i) * T + j];
        EXPECT_NEAR(sum, 1.0, 1e-6);
        for (int j = i + 1; j < T; ++j) EXPECT_EQ(probs[((b * Nq + h) * T + i) * T + j], 0.0f);  // causal
      }
    }
}

TEST(AttentionKnown, FullyMaskedRowHasZeroGradients) {
  const int B = 1, T = 3, Nq = 1, Nkv = 1, D = 2;
  const auto q = random_vec(6, 71), k = random_vec(6, 72), v = random_vec(6, 73), dout = random_vec(6, 74);
  const std::vector<uint8_t> mask = {0, 1, 1};  // query 0 has no allowed key
  std::vector<float> out(6), probs(9), dq(6), dk(6), dv(6);
  cpu::attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), mask.data(), B, T, Nq, Nkv, D, 1.0f, 0, 0.0f);
  cpu::attention_backward(dq.data(), dk.data(), dv.data(), dout.data(), probs.data(), q.data(), k.data(), v.data(), B,
                          T, Nq, Nkv, D, 1.0f, 0.0f);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_EQ(dq[0], 0.0f);
  EXPECT_EQ(dq[1], 0.0f);
  EXPECT_EQ(dk[0], 0.0f);  // key 0 is padding: no gradient flows to it
  EXPECT_EQ(dv[1], 0.0f);
  EXPECT_NE(dv[2], 0.0f);
}

struct WindowCap {
  int window;
  float softcap;
};

class AttentionWindowCap : public ::testing::TestWithParam<WindowCap> {};

TEST_P(AttentionWindowCap, ForwardAndBackwardMatchReference) {
  const auto [window, softcap] = GetParam();
  const int B = 2, T = 13, Nq = 4, Nkv = 2, D = 8;
  const float scale = 0.7f;  // large scores so that soft-capping at 1 or 2 bends them
  const size_t nq = size_t(B) * T * Nq * D, nkv = size_t(B) * T * Nkv * D, np = size_t(B) * Nq * T * T;
  const auto q = random_vec(nq, 81, -2.0, 2.0), k = random_vec(nkv, 82, -2.0, 2.0), v = random_vec(nkv, 83);
  const auto dout = random_vec(nq, 84);
  const auto mask = test::attention_test_mask(B, T);
  std::vector<float> out(nq), probs(np), out_ref(nq), probs_ref(np);
  cpu::attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), mask.data(), B, T, Nq, Nkv, D, scale,
                         window, softcap);
  ref::attention_forward(out_ref.data(), probs_ref.data(), q.data(), k.data(), v.data(), mask.data(), B, T, Nq, Nkv, D,
                         scale, window, softcap);
  EXPECT_LE(max_rel_err(out, out_ref), 1e-5);
  EXPECT_LE(max_rel_err(probs, probs_ref), 1e-5);
  if (window > 0)
    for (int i = 0; i < T; ++i)
      for (int j = 0; j + window <= i; ++j) EXPECT_EQ(probs[size_t(i) * T + j], 0.0f) << i << ", " << j;

  std::vector<float> dq(nq), dk(nkv), dv(nkv), dq_ref(nq), dk_ref(nkv), dv_ref(nkv);
  cpu::attention_backward(dq.data(), dk.data(), dv.data(), dout.data(), probs.data(), q.data(), k.data(), v.data(), B,
                          T, Nq, Nkv, D, scale, softcap);
  ref::attention_backward(dq_ref.data(), dk_ref.data(), dv_ref.data(), dout.data(), probs_ref.data(), q.data(),
                          k.data(), v.data(), B, T, Nq, Nkv, D, scale, softcap);
  EXPECT_LE(max_rel_err(dq, dq_ref), 1e-5);
  EXPECT_LE(max_rel_err(dk, dk_ref), 1e-5);
  EXPECT_LE(max_rel_err(dv, dv_ref), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Cases, AttentionWindowCap,
                         ::testing::Values(WindowCap{4, 0.0f}, WindowCap{1, 0.0f}, WindowCap{0, 1.5f},
                                           WindowCap{3, 2.0f}, WindowCap{13, 0.0f}));

class AttentionWindowCapGrad : public ::testing::TestWithParam<WindowCap> {};

TEST_P(AttentionWindowCapGrad, ReferenceBackwardMatchesFiniteDifferences) {
  const auto [window, softcap] = GetParam();
  const int B = 2, T = 5, Nq = 2, Nkv = 1, D = 3;
  const double scale = 0.9;
  const size_t nq = size_t(B) * T * Nq * D, nkv = size_t(B) * T * Nkv * D;
  auto q = random_vec<double>(nq, 91, -2.0, 2.0), k = random_vec<double>(nkv, 92, -2.0, 2.0);
  auto v = random_vec<double>(nkv, 93);
  const auto r = random_vec<double>(nq, 94);
  const auto mask = test::attention_test_mask(B, T);
  std::vector<double> out(nq), probs(size_t(B) * Nq * T * T);
  auto loss = [&] {
    ref::attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), mask.data(), B, T, Nq, Nkv, D,
                           scale, window, double(softcap));
    return test::project(out, r);
  };
  loss();
  std::vector<double> dq(nq), dk(nkv), dv(nkv);
  ref::attention_backward(dq.data(), dk.data(), dv.data(), r.data(), probs.data(), q.data(), k.data(), v.data(), B, T,
                          Nq, Nkv, D, scale, double(softcap));
  EXPECT_LE(max_rel_err(dq, test::numeric_grad(q, loss)), 1e-7);
  EXPECT_LE(max_rel_err(dk, test::numeric_grad(k, loss)), 1e-7);
  EXPECT_LE(max_rel_err(dv, test::numeric_grad(v, loss)), 1e-7);
}

INSTANTIATE_TEST_SUITE_P(Cases, AttentionWindowCapGrad,
                         ::testing::Values(WindowCap{2, 0.0f}, WindowCap{0, 0.8f}, WindowCap{3, 1.2f}));

TEST(AttentionKnown, WindowOfOneCopiesOwnValue) {
  const int B = 1, T = 5, Nq = 2, Nkv = 1, D = 3;
  const auto q = random_vec(size_t(T) * Nq * D, 95), k = random_vec(size_t(T) * Nkv * D, 96);
  const auto v = random_vec(size_t(T) * Nkv * D, 97);
  const std::vector<uint8_t> mask(T, 1);
  std::vector<float> out(q.size()), probs(size_t(Nq) * T * T);
  cpu::attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), mask.data(), B, T, Nq, Nkv, D, 0.5f,
                         1, 0.0f);
  for (int i = 0; i < T; ++i)
    for (int h = 0; h < Nq; ++h)
      for (int d = 0; d < D; ++d) EXPECT_FLOAT_EQ(out[(i * Nq + h) * D + d], v[i * D + d]);
}

// Soft-capping bounds every score by the cap: with cap c, scores of +-100 become +-c * tanh(100 / c) ~ +-c, so two keys
// with raw scores 100 and -100 get probabilities softmax(c, -c).
TEST(AttentionKnown, SoftcapBoundsScores) {
  const int B = 1, T = 2, Nq = 1, Nkv = 1, D = 1;
  const std::vector<float> q = {1.0f, 1.0f}, k = {100.0f, -100.0f}, v = {1.0f, 0.0f};
  const std::vector<uint8_t> mask(T, 1);
  std::vector<float> out(2), probs(4);
  const float c = 2.0f;
  cpu::attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), mask.data(), B, T, Nq, Nkv, D, 1.0f,
                         0, c);
  const double sc = c * std::tanh(100.0 / c);
  EXPECT_NEAR(probs[2], std::exp(sc) / (std::exp(sc) + std::exp(-sc)), 1e-6);  // query 1 over keys 0, 1
  EXPECT_NEAR(out[1], probs[2], 1e-6);
}

TEST(AttentionErrors, HeadsNotAMultipleThrow) {
  std::vector<float> buf(64);
  const std::vector<uint8_t> mask(2, 1);
  EXPECT_THROW(cpu::attention_forward(buf.data(), buf.data(), buf.data(), buf.data(), buf.data(), mask.data(), 1, 2, 3,
                                      2, 2, 1.0f, 0, 0.0f),
               Error);
}

}  // namespace
}  // namespace tune
