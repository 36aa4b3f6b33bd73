// Tests for the logits processors of infer/sampling.h: each step against a literal transcription of the transformers
// 5.x processor (full sorts, no shortcuts) and hand-computed values, and the draw against its probabilities.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <vector>

#include "core/error.h"
#include "infer/sampling.h"
#include "kernels/counter_rng.h"
#include "unit/grad_check.h"

namespace tune {
namespace {

using test::random_vec;
constexpr float kInf = INFINITY;

// ---- scalar references, written the way HF's processors read ----

// RepetitionPenaltyLogitsProcessor: gather the scores of input_ids, penalize, scatter back.
std::vector<float> ref_repetition(std::vector<float> s, const std::vector<int32_t>& ids, float penalty) {
  for (const int32_t id : std::set<int32_t>(ids.begin(), ids.end())) s[id] = s[id] < 0 ? s[id] * penalty : s[id] / penalty;
  return s;
}

// TopKLogitsWarper: remove scores < topk(scores, k).values[-1].
std::vector<float> ref_top_k(std::vector<float> s, int k) {
  std::vector<float> sorted = s;
  std::sort(sorted.begin(), sorted.end(), std::greater<float>());
  const float kth = sorted[std::min<size_t>(k, s.size()) - 1];
  for (float& x : s)
    if (x < kth) x = -kInf;
  return s;
}

// TopPLogitsWarper: sort ascending over the whole vocabulary, softmax, fp32 cumsum, remove cum <= 1 - p except the
// last.
std::vector<float> ref_top_p(std::vector<float> s, float top_p) {
  std::vector<int> idx(s.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return s[a] < s[b]; });
  const float mx = s[idx.back()];
  double z = 0.0;
  for (const float x : s) z += std::exp(double(x) - mx);
  float cum = 0.0f;
  const float thr = float(1.0 - double(top_p));
  std::vector<bool> remove(s.size());
  for (size_t i = 0; i < idx.size(); ++i) {
    cum += float(std::exp(double(s[idx[i]]) - mx) / z);
    remove[idx[i]] = cum <= thr && i + 1 < idx.size();
  }
  for (size_t i = 0; i < s.size(); ++i)
    if (remove[i]) s[i] = -kInf;
  return s;
}

TEST(RepetitionPenalty, DividesPositiveMultipliesNegativeOncePerId) {
  std::vector<float> s = {2.0f, -2.0f, 0.5f, 3.0f, 0.0f};
  apply_repetition_penalty(s, std::vector<int32_t>{0, 1, 1, 1, 4}, 2.0f);
  EXPECT_EQ(s, (std::vector<float>{1.0f, -4.0f, 0.5f, 3.0f, 0.0f}));
}

TEST(RepetitionPenalty, MatchesReferenceAndOneIsANoOp) {
  const auto logits = random_vec(300, 1, -5.0, 5.0);
  std::vector<int32_t> ids;
  for (int i = 0; i < 80; ++i) ids.push_back((i * 37) % 300);
  for (const float p : {0.7f, 1.3f}) {
    std::vector<float> s = logits;
    apply_repetition_penalty(s, ids, p);
    EXPECT_EQ(s, ref_repetition(logits, ids, p)) << p;
  }
  std::vector<float> s = logits;
  apply_repetition_penalty(s, ids, 1.0f);
  EXPECT_EQ(s, logits);
  EXPECT_THROW(apply_repetition_penalty(s, std::vector<int32_t>{300}, 1.5f), Error);
}

TEST(Temperature, DividesEveryLogit) {
  std::vector<float> s = {1.0f, -3.0f, 0.25f};
  apply_temperature(s, 0.5f);
  EXPECT_EQ(s, (std::vector<float>{2.0f, -6.0f, 0.5f}));
}

TEST(TopK, KeepsTheKLargestAndTiesWithTheKth) {
  std::vector<float> s = {1.0f, 5.0f, 3.0f, 3.0f, -1.0f, 4.0f};
  apply_top_k(s, 3);  // 5, 4 and both 3s stay
  EXPECT_EQ(s, (std::vector<float>{-kInf, 5.0f, 3.0f, 3.0f, -kInf, 4.0f}));
  std::vector<float> t = {1.0f, 2.0f};
  apply_top_k(t, 0);
  apply_top_k(t, 5);
  EXPECT_EQ(t, (std::vector<float>{1.0f, 2.0f}));
}

TEST(TopK, MatchesReference) {
  const auto logits = random_vec(1000, 2, -8.0, 8.0);
  for (const int k : {1, 2, 50, 999}) {
    std::vector<float> s = logits;
    apply_top_k(s, k);
    EXPECT_EQ(s, ref_top_k(logits, k)) << k;
  }
}

TEST(TopP, KeepsTheSmallestSetReachingP) {
  // probabilities 0.5, 0.3, 0.15, 0.05: ascending cumulative 0.05, 0.2, 0.5, 1.0; remove <= 0.3 -> keep 0.5 and 0.3.
  std::vector<float> s = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  const std::vector<float> orig = s;
  apply_top_p(s, 0.7f);
  EXPECT_EQ(s, (std::vector<float>{orig[0], orig[1], -kInf, -kInf}));
  // A tiny top_p still keeps the largest token.
  s = orig;
  apply_top_p(s, 0.01f);
  EXPECT_EQ(s, (std::vector<float>{orig[0], -kInf, -kInf, -kInf}));
  s = orig;
  apply_top_p(s, 1.0f);
  EXPECT_EQ(s, orig);
}

TEST(TopP, MatchesReferenceAlsoAfterTopK) {
  const auto logits = random_vec(2000, 3, -6.0, 6.0);
  for (const float p : {0.1f, 0.7f, 0.95f, 0.999f}) {
    std::vector<float> s = logits;
    apply_top_p(s, p);
    EXPECT_EQ(s, ref_top_p(logits, p)) << p;
    std::vector<float> k = ref_top_k(logits, 50), t = k;
    apply_top_p(t, p);
    EXPECT_EQ(t, ref_top_p(k, p)) << p << " after top-k";
  }
}

TEST(Argmax, FirstIndexOfTheMaximum) {
  EXPECT_EQ(argmax(std::vector<float>{1.0f, 7.0f, -2.0f, 7.0f}), 1);
  EXPECT_EQ(argmax(std::vector<float>{-kInf, -1.0f}), 1);
}

TEST(SampleSoftmax, InverseCdfOverTheFiniteTokens) {
  const std::vector<float> s = {0.0f, -kInf, std::log(3.0f), -kInf};  // probabilities 0.25, 0, 0.75, 0
  EXPECT_EQ(sample_softmax(s, 0.0f), 0);
  EXPECT_EQ(sample_softmax(s, 0.2f), 0);
  EXPECT_EQ(sample_softmax(s, 0.3f), 2);
  EXPECT_EQ(sample_softmax(s, 0.99999994f), 2);
  EXPECT_THROW(sample_softmax(std::vector<float>{-kInf, -kInf}, 0.5f), Error);
}

TEST(SampleSoftmax, FrequenciesFollowTheProbabilities) {
  const std::vector<float> s = {1.0f, 0.0f, 2.0f, -kInf, -0.5f};
  double z = 0.0;
  for (const float x : s) z += std::exp(double(x));
  std::vector<int> count(s.size(), 0);
  const int n = 200000;
  const uint64_t stream = splitmix64(123);
  for (int i = 0; i < n; ++i) ++count[sample_softmax(s, counter_uniform(stream, i))];
  for (size_t i = 0; i < s.size(); ++i) EXPECT_NEAR(count[i] / double(n), std::exp(double(s[i])) / z, 0.005) << i;
  EXPECT_EQ(count[3], 0);
}

}  // namespace
}  // namespace tune
