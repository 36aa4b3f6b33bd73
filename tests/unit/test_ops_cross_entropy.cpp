// Tests for the chunked LM head + causal cross-entropy: cpu vs full-logits reference (ignored labels, a row without
// targets, several chunks, soft-capped logits), reference dh vs finite differences (plain and soft-capped), uniform
// logits = log V, label errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/ops.h"
#include "kernels/reference/ops_ref.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::max_rel_err;
using test::random_vec;

std::vector<int32_t> make_labels(int B, int T, int V, uint32_t seed) {
  return test::random_labels(B, T, V, seed, 0.2);
}

struct CeSize {
  int B, T, H, V;
};

class CrossEntropyParity : public ::testing::TestWithParam<CeSize> {};

TEST_P(CrossEntropyParity, MatchesFullLogitsReference) {
  const auto [B, T, H, V] = GetParam();
  const size_t nh = size_t(B) * T * H;
  const auto h = random_vec(nh, 1, -2.0, 2.0), E = random_vec(size_t(V) * H, 2);
  const auto labels = make_labels(B, T, V, 3);
  const float gs = 0.37f;

  auto dh = random_vec(nh, 4), dh_ref = dh;  // += onto a nonzero buffer
  std::vector<float> logits(size_t(B) * T * V), logits_ref(logits.size());
  int64_t n = -1, n_ref = -2;
  const double loss =
      cpu::lm_head_cross_entropy(dh.data(), logits.data(), h.data(), E.data(), labels.data(), B, T, H, V, gs, 0.0f, &n);
  const double loss_ref = ref::lm_head_cross_entropy(dh_ref.data(), logits_ref.data(), h.data(), E.data(),
                                                     labels.data(), B, T, H, V, gs, &n_ref);
  EXPECT_EQ(n, n_ref);
  EXPECT_GT(n, 0);
  EXPECT_NEAR(loss, loss_ref, 1e-5 * std::fabs(loss_ref));
  EXPECT_LE(max_rel_err(dh, dh_ref), 1e-5);
  EXPECT_LE(max_rel_err(logits, logits_ref), 1e-5);

  int64_t n_plain = -1;  // loss only: no dh, no logits
  const double loss_plain =
      cpu::lm_head_cross_entropy(nullptr, nullptr, h.data(), E.data(), labels.data(), B, T, H, V, gs, 0.0f, &n_plain);
  EXPECT_EQ(n_plain, n);
  EXPECT_NEAR(loss_plain, loss_ref, 1e-5 * std::fabs(loss_ref));
}

INSTANTIATE_TEST_SUITE_P(Sizes, CrossEntropyParity,
                         ::testing::Values(CeSize{1, 2, 1, 2}, CeSize{3, 6, 16, 37},
                                           CeSize{3, 400, 8, 50},  // ~640 targets > 512: several chunks
                                           CeSize{3, 97, 5, 301}));

// A caller-kept scratch, reused across calls of different sizes, gives bit-identical results to a fresh one.
TEST(CrossEntropyScratch, ReuseAcrossShapesMatchesFreshBuffers) {
  cpu::LmHeadScratch scratch;
  for (const CeSize& c : {CeSize{3, 400, 8, 50}, CeSize{2, 5, 8, 50}, CeSize{1, 30, 4, 90}, CeSize{3, 400, 8, 50}}) {
    const size_t nh = size_t(c.B) * c.T * c.H;
    const auto h = random_vec(nh, 31, -2.0, 2.0), E = random_vec(size_t(c.V) * c.H, 32);
    const auto labels = make_labels(c.B, c.T, c.V, 33);
    std::vector<float> dh_fresh(nh, 0.5f), dh_reused(nh, 0.5f);
    int64_t n_fresh = -1, n_reused = -2;
    const double fresh = cpu::lm_head_cross_entropy(dh_fresh.data(), nullptr, h.data(), E.data(), labels.data(), c.B,
                                                    c.T, c.H, c.V, 0.25f, 0.0f, &n_fresh);
    const double reused = cpu::lm_head_cross_entropy(dh_reused.data(), nullptr, h.data(), E.data(), labels.data(),
                                                     c.B, c.T, c.H, c.V, 0.25f, 0.0f, &n_reused, &scratch);
    EXPECT_EQ(fresh, reused) << c.B << "x" << c.T;
    EXPECT_EQ(n_fresh, n_reused);
    EXPECT_EQ(dh_fresh, dh_reused);
  }
}

// Final-logit soft-capping (Gemma 2): cpu vs reference for loss, dh and the returned (capped) logits; the cap bends
// logits of size ~ the cap, so it is set at 1.5 with logits up to ~4.
TEST(CrossEntropySoftcap, MatchesFullLogitsReference) {
  const int B = 3, T = 6, H = 16, V = 37;
  const float cap = 1.5f, gs = 0.5f;
  const size_t nh = size_t(B) * T * H;
  const auto h = random_vec(nh, 31, -2.0, 2.0), E = random_vec(size_t(V) * H, 32, -0.5, 0.5);
  const auto labels = make_labels(B, T, V, 33);
  auto dh = random_vec(nh, 34), dh_ref = dh;
  std::vector<float> logits(size_t(B) * T * V), logits_ref(logits.size());
  int64_t n = -1, n_ref = -2;
  const double loss =
      cpu::lm_head_cross_entropy(dh.data(), logits.data(), h.data(), E.data(), labels.data(), B, T, H, V, gs, cap, &n);
  const double loss_ref = ref::lm_head_cross_entropy(dh_ref.data(), logits_ref.data(), h.data(), E.data(),
                                                     labels.data(), B, T, H, V, gs, &n_ref, cap);
  EXPECT_EQ(n, n_ref);
  EXPECT_NEAR(loss, loss_ref, 1e-5 * std::fabs(loss_ref));
  EXPECT_LE(max_rel_err(dh, dh_ref), 1e-5);
  EXPECT_LE(max_rel_err(logits, logits_ref), 1e-5);
  float biggest = 0.0f;
  for (float l : logits) biggest = std::max(biggest, std::fabs(l));
  EXPECT_LT(biggest, cap);  // every logit is inside (-cap, cap)
  EXPECT_GT(biggest, 0.8f * cap);  // and the cap was active
}

TEST(CrossEntropySoftcap, ReferenceDhMatchesFiniteDifferences) {
  const int B = 2, T = 4, H = 5, V = 7;
  const double cap = 0.9;
  auto h = random_vec<double>(size_t(B) * T * H, 41, -2.0, 2.0);
  const auto E = random_vec<double>(size_t(V) * H, 42);
  const std::vector<int32_t> labels = {3, 1, -100, 6, 0, 2, 5, -100};
  auto loss = [&] {
    int64_t n = 0;
    return ref::lm_head_cross_entropy(nullptr, nullptr, h.data(), E.data(), labels.data(), B, T, H, V, 1.0, &n, cap);
  };
  std::vector<double> dh(h.size(), 0.0);
  int64_t n = 0;
  ref::lm_head_cross_entropy(dh.data(), nullptr, h.data(), E.data(), labels.data(), B, T, H, V, 1.0, &n, cap);
  EXPECT_LE(max_rel_err(dh, test::numeric_grad(h, loss)), 1e-7);
}

TEST(CrossEntropyGrad, ReferenceDhMatchesFiniteDifferences) {
  const int B = 2, T = 4, H = 5, V = 7;
  const double gs = 0.7;
  auto h = random_vec<double>(size_t(B) * T * H, 21, -2.0, 2.0);
  const auto E = random_vec<double>(size_t(V) * H, 22);
  const std::vector<int32_t> labels = {3, 1, -100, 6, 0, 2, 5, -100};
  auto loss = [&] {
    int64_t n = 0;
    return gs * ref::lm_head_cross_entropy(nullptr, nullptr, h.data(), E.data(), labels.data(), B, T, H, V, 1.0, &n);
  };
  std::vector<double> dh(h.size(), 0.0);
  int64_t n = 0;
  ref::lm_head_cross_entropy(dh.data(), nullptr, h.data(), E.data(), labels.data(), B, T, H, V, gs, &n);
  EXPECT_EQ(n, 4);  // targets at (0,0)->1, (0,2)->6, (1,0)->2, (1,1)->5
  EXPECT_LE(max_rel_err(dh, test::numeric_grad(h, loss)), 1e-7);
  for (int c = 0; c < H; ++c) {  // last positions and position (0,1) (target -100) get no gradient
    EXPECT_EQ(dh[(0 * T + 1) * H + c], 0.0);
    EXPECT_EQ(dh[(0 * T + 3) * H + c], 0.0);
    EXPECT_EQ(dh[(1 * T + 3) * H + c], 0.0);
  }
}

TEST(CrossEntropyKnown, UniformLogitsGiveLogV) {
  const int B = 2, T = 5, H = 4, V = 11;
  const auto h = random_vec(size_t(B) * T * H, 31);
  const std::vector<float> E(size_t(V) * H, 0.25f);  // every vocabulary row equal -> uniform logits
  const std::vector<int32_t> labels = {0, 1, 2, -100, 4, 9, 8, 7, 6, 5};
  std::vector<float> dh(h.size(), 0.0f);
  int64_t n = 0;
  const double loss =
      cpu::lm_head_cross_entropy(dh.data(), nullptr, h.data(), E.data(), labels.data(), B, T, H, V, 1.0f, 0.0f, &n);
  EXPECT_EQ(n, 7);
  EXPECT_NEAR(loss, 7 * std::log(11.0), 1e-5);
  for (float g : dh) EXPECT_NEAR(g, 0.0f, 1e-6);  // softmax - onehot is orthogonal to equal rows
}

TEST(CrossEntropyKnown, NoTargetsGivesZero) {
  const int H = 3, V = 4;
  const auto h = random_vec(size_t(2) * H, 41), E = random_vec(size_t(V) * H, 42);
  std::vector<float> dh(h.size(), 1.0f);
  int64_t n = -1;
  const std::vector<int32_t> t1 = {2, 3};  // T = 1: no position has a target
  EXPECT_EQ(cpu::lm_head_cross_entropy(dh.data(), nullptr, h.data(), E.data(), t1.data(), 2, 1, H, V, 1.0f, 0.0f, &n), 0.0);
  EXPECT_EQ(n, 0);
  const std::vector<int32_t> ignored = {1, -100};  // T = 2, only target ignored
  EXPECT_EQ(cpu::lm_head_cross_entropy(dh.data(), nullptr, h.data(), E.data(), ignored.data(), 1, 2, H, V, 1.0f, 0.0f, &n),
            0.0);
  EXPECT_EQ(n, 0);
  EXPECT_EQ(dh, std::vector<float>(h.size(), 1.0f));
}

TEST(CrossEntropyErrors, LabelOutsideVocabularyThrowsNamingIt) {
  const int B = 2, T = 3, H = 2, V = 5;
  const auto h = random_vec(size_t(B) * T * H, 51), E = random_vec(size_t(V) * H, 52);
  for (int32_t bad : {5, -1, -99}) {
    const std::vector<int32_t> labels = {0, 1, 2, 3, 4, bad};
    int64_t n = 0;
    EXPECT_THROW(cpu::lm_head_cross_entropy(nullptr, nullptr, h.data(), E.data(), labels.data(), B, T, H, V, 1.0f, 0.0f, &n),
                 Error)
        << bad;
    EXPECT_THROW(ref::lm_head_cross_entropy(nullptr, nullptr, h.data(), E.data(), labels.data(), B, T, H, V, 1.0f, &n),
                 Error)
        << bad;
  }
  try {
    const std::vector<int32_t> labels = {0, 1, 2, 3, 4, 12345};
    int64_t n = 0;
    cpu::lm_head_cross_entropy(nullptr, nullptr, h.data(), E.data(), labels.data(), B, T, H, V, 1.0f, 0.0f, &n);
    FAIL() << "expected tune::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("12345"), std::string::npos) << msg;
    EXPECT_NE(msg.find("row 1, position 2"), std::string::npos) << msg;
  }
}

TEST(CrossEntropyKnown, FirstLabelOfARowIsNeverATarget) {
  // HF shifts labels: labels[:, 0] is never read, so an arbitrary value there is not an error.
  const int H = 2, V = 3;
  const auto h = random_vec(size_t(2) * H, 61), E = random_vec(size_t(V) * H, 62);
  const std::vector<int32_t> labels = {999, 1};
  int64_t n = 0;
  EXPECT_NO_THROW(
      cpu::lm_head_cross_entropy(nullptr, nullptr, h.data(), E.data(), labels.data(), 1, 2, H, V, 1.0f, 0.0f, &n));
  EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace tune
