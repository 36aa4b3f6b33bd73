// Reward-model pairwise losses: hand-computed values for both forms, the seed-era span rules, and gradients against
// finite differences.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "train/rm_loss.h"

namespace tune {
namespace {

double softplus(double x) { return std::log1p(std::exp(x)); }

// One pair, T = 4: chosen [2 5 6 pad], rejected [2 5 7 8] (pad id 0).
Batch one_pair() {
  Batch b;
  b.B = 2, b.T = 4;
  b.input_ids = {2, 5, 6, 0, 2, 5, 7, 8};
  b.attention_mask = {1, 1, 1, 0, 1, 1, 1, 1};
  return b;
}

Tensor values_of(std::vector<float> v, int B, int T) {
  Tensor t({B, T});
  t.data = std::move(v);
  return t;
}

TEST(RmLoss, PerTokenSpansFromDivergenceToLongerEndIncludingPad) {
  const Batch b = one_pair();
  const Tensor v = values_of({0.1f, 0.2f, 0.9f, -0.4f, 0.3f, 0.1f, 0.2f, 0.5f}, 2, 4);
  const RmLossResult r = rm_per_token_loss(v, b, /*pad_id=*/0, nullptr);
  // div = 2 (6 vs 7), len_c = 3, len_r = 4, end = 4: positions 2 and 3 (the chosen row's pad).
  const double expected = (softplus(-(0.9 - 0.2)) + softplus(-(-0.4 - 0.5))) / 2.0;
  EXPECT_NEAR(r.loss, expected, 1e-7);
  ASSERT_EQ(r.chosen_scores.size(), 1u);
  EXPECT_FLOAT_EQ(r.chosen_scores[0], 0.9f);    // value at len_c - 1 = 2
  EXPECT_FLOAT_EQ(r.rejected_scores[0], 0.5f);  // value at len_r - 1 = 3
}

TEST(RmLoss, PerTokenIdenticalRowsUseOnlyTheLastToken) {
  Batch b = one_pair();
  b.input_ids = {2, 5, 6, 0, 2, 5, 6, 0};
  b.attention_mask = {1, 1, 1, 0, 1, 1, 1, 0};
  const Tensor v = values_of({0.1f, 0.2f, 0.9f, -0.4f, 0.3f, 0.1f, 0.2f, 0.5f}, 2, 4);
  const RmLossResult r = rm_per_token_loss(v, b, 0, nullptr);
  EXPECT_NEAR(r.loss, softplus(-(0.9 - 0.2)), 1e-7);
}

TEST(RmLoss, PerTokenMeansOverPairs) {
  Batch b;
  b.B = 4, b.T = 3;
  b.input_ids = {2, 4, 0, 2, 9, 9, 2, 5, 0, 2, 8, 0};  // chosen rows 0,1; rejected rows 2,3
  b.attention_mask = {1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 0};
  const Tensor v = values_of({0.f, 1.f, 2.f, 0.f, 0.5f, -1.f, 0.f, 0.25f, 3.f, 0.f, 0.75f, 0.f}, 4, 3);
  const RmLossResult r = rm_per_token_loss(v, b, 0, nullptr);
  // pair 0: rows 0 and 2 differ at t=1, lengths 2 and 2 -> t in [1,2). pair 1: rows 1 and 3 differ at t=1,
  // lengths 3 and 2 -> t in [1,3) including row 3's pad position 2.
  const double p0 = softplus(-(1.0 - 0.25));
  const double p1 = (softplus(-(0.5 - 0.75)) + softplus(-(-1.0 - 0.0))) / 2.0;
  EXPECT_NEAR(r.loss, (p0 + p1) / 2.0, 1e-7);
}

TEST(RmLoss, LastTokenUsesAttentionMask) {
  const Batch b = one_pair();
  const Tensor v = values_of({0.1f, 0.2f, 0.9f, -0.4f, 0.3f, 0.1f, 0.2f, 0.5f}, 2, 4);
  const RmLossResult r = rm_last_token_loss(v, b, nullptr);
  EXPECT_NEAR(r.loss, softplus(-(0.9 - 0.5)), 1e-7);
}

// d(loss)/d(values) against central differences in float (h = 1e-2, smooth loss).
void expect_gradient_matches(bool per_token) {
  Batch b;
  b.B = 4, b.T = 5;
  b.input_ids = {2, 4, 6, 0, 0, 2, 9, 9, 9, 1, 2, 5, 0, 0, 0, 2, 9, 3, 1, 0};
  b.attention_mask = {1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0};
  Tensor v({4, 5});
  for (int i = 0; i < 20; ++i) v.data[i] = std::sin(1.3f * i);
  auto loss = [&](const Tensor& x) {
    return per_token ? rm_per_token_loss(x, b, 0, nullptr).loss : rm_last_token_loss(x, b, nullptr).loss;
  };
  Tensor grad;
  if (per_token)
    rm_per_token_loss(v, b, 0, &grad);
  else
    rm_last_token_loss(v, b, &grad);
  int nonzero = 0;
  for (int i = 0; i < 20; ++i) {
    Tensor plus = v, minus = v;
    plus.data[i] += 1e-2f;
    minus.data[i] -= 1e-2f;
    const double fd = (loss(plus) - loss(minus)) / (static_cast<double>(plus.data[i]) - minus.data[i]);
    EXPECT_NEAR(grad.data[i], fd, 2e-5) << "index " << i;
    nonzero += grad.data[i] != 0.0f;
  }
  EXPECT_GT(nonzero, 3);
}

TEST(RmLoss, PerTokenGradientMatchesFiniteDifferences) { expect_gradient_matches(true); }
TEST(RmLoss, LastTokenGradientMatchesFiniteDifferences) { expect_gradient_matches(false); }

TEST(RmLoss, RejectsOddBatchesAndPairsThatDifferAtTheFirstToken) {
  Batch odd;
  odd.B = 3, odd.T = 2;
  odd.input_ids.assign(6, 2);
  odd.attention_mask.assign(6, 1);
  EXPECT_THROW(rm_per_token_loss(Tensor({3, 2}), odd, 0, nullptr), Error);
  Batch b = one_pair();
  b.input_ids[4] = 7;  // rejected starts with a different token
  EXPECT_THROW(rm_per_token_loss(Tensor({2, 4}), b, 0, nullptr), Error);
}

}  // namespace
}  // namespace tune
