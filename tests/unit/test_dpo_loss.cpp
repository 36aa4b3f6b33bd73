// Tests for the preference losses: hand-derived values at known points for every pref_loss, label smoothing and
// pref_ftx, gradients against central differences, rewards, and TRL's metric names/order.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "train/dpo_loss.h"

namespace tune {
namespace {

PrefLossOptions opts(PrefLoss loss, double beta = 0.1) {
  PrefLossOptions o;
  o.loss = loss;
  o.beta = beta;
  return o;
}

// policy == reference (an untrained LoRA): z = 0.
PairLogps equal_to_reference() {
  PairLogps p;
  p.chosen = p.ref_chosen = -12.5;
  p.rejected = p.ref_rejected = -9.0;
  p.chosen_avg = -2.5;
  return p;
}

TEST(PreferenceLoss, ValuesAtZeroMargin) {
  const PairLogps p = equal_to_reference();
  const PairLoss s = preference_loss(p, opts(PrefLoss::Sigmoid));
  EXPECT_DOUBLE_EQ(s.loss, std::log(2.0));  // DPO starts at ln 2
  EXPECT_DOUBLE_EQ(s.d_chosen, -0.05);      // -beta * sigmoid(0)
  EXPECT_DOUBLE_EQ(s.d_rejected, 0.05);
  EXPECT_EQ(s.chosen_reward, 0.0);
  EXPECT_EQ(s.rejected_reward, 0.0);
  EXPECT_DOUBLE_EQ(preference_loss(p, opts(PrefLoss::Hinge)).loss, 1.0);  // relu(1 - 0)
  EXPECT_DOUBLE_EQ(preference_loss(p, opts(PrefLoss::Hinge)).d_chosen, -0.1);
  EXPECT_NEAR(preference_loss(p, opts(PrefLoss::Ipo)).loss, 25.0, 1e-12);  // (0 - 1/(2 * 0.1))^2
  EXPECT_NEAR(preference_loss(p, opts(PrefLoss::Ipo)).d_chosen, -10.0, 1e-12);
}

TEST(PreferenceLoss, SigmoidValueAndLabelSmoothing) {
  PairLogps p;
  p.chosen = -3, p.rejected = -5, p.ref_chosen = -4, p.ref_rejected = -4.5;  // z = 2 - 0.5 = 1.5, beta z = 0.15
  PrefLossOptions o = opts(PrefLoss::Sigmoid);
  EXPECT_NEAR(preference_loss(p, o).loss, std::log1p(std::exp(-0.15)), 1e-15);
  EXPECT_NEAR(preference_loss(p, o).chosen_reward, 0.1, 1e-15);     // 0.1 * (-3 + 4)
  EXPECT_NEAR(preference_loss(p, o).rejected_reward, -0.05, 1e-15);  // 0.1 * (-5 + 4.5)
  o.label_smoothing = 0.25;
  EXPECT_NEAR(preference_loss(p, o).loss, 0.75 * std::log1p(std::exp(-0.15)) + 0.25 * std::log1p(std::exp(0.15)),
              1e-15);
}

TEST(PreferenceLoss, HingeIsZeroPastTheMargin) {
  PairLogps p;
  p.chosen = 0, p.rejected = -20;  // z = 20, 1 - beta z = -1
  const PairLoss l = preference_loss(p, opts(PrefLoss::Hinge));
  EXPECT_EQ(l.loss, 0.0);
  EXPECT_EQ(l.d_chosen, 0.0);
}

TEST(PreferenceLoss, ReferenceFreeLosses) {
  PairLogps p;
  p.chosen = p.rejected = p.chosen_avg = -1.5;  // equal mean log-probs: log odds 0
  const PairLoss orpo = preference_loss(p, opts(PrefLoss::Orpo));
  EXPECT_NEAR(orpo.loss, 1.5 + 0.1 * std::log(2.0), 1e-15);  // -chosen + beta * -log sigmoid(0)
  EXPECT_NEAR(orpo.chosen_reward, -0.15, 1e-15);              // beta * chosen
  PrefLossOptions simpo = opts(PrefLoss::Simpo, 2.0);
  simpo.simpo_gamma = 1.0;  // z = 0 - 1/2; loss = -log sigmoid(2 * -0.5) = log(1 + e)
  EXPECT_NEAR(preference_loss(p, simpo).loss, std::log1p(std::exp(1.0)), 1e-15);
  EXPECT_FALSE(uses_reference(PrefLoss::Orpo));
  EXPECT_FALSE(uses_reference(PrefLoss::Simpo));
  EXPECT_TRUE(uses_reference(PrefLoss::Ipo));
  EXPECT_TRUE(averages_logps(PrefLoss::Ipo));
  EXPECT_FALSE(averages_logps(PrefLoss::Hinge));
}

TEST(PreferenceLoss, FtxAddsTheChosenNll) {
  const PairLogps p = equal_to_reference();
  PrefLossOptions o = opts(PrefLoss::Sigmoid);
  o.ftx = 0.5;
  const PairLoss l = preference_loss(p, o);
  EXPECT_NEAR(l.loss, std::log(2.0) + 0.5 * 2.5, 1e-15);
  EXPECT_DOUBLE_EQ(l.sft_loss, 2.5);
  EXPECT_DOUBLE_EQ(l.d_chosen_avg, -0.5);
  o.ftx = 1e-7;  // LF's threshold: 1e-6
  EXPECT_DOUBLE_EQ(preference_loss(p, o).loss, std::log(2.0));
}

// d loss / d (chosen, rejected, chosen_avg) equal central differences for every loss (hinge away from its kink).
TEST(PreferenceLoss, GradientsMatchFiniteDifferences) {
  for (PrefLoss kind : {PrefLoss::Sigmoid, PrefLoss::Hinge, PrefLoss::Ipo, PrefLoss::Orpo, PrefLoss::Simpo}) {
    PrefLossOptions o = opts(kind, 0.3);
    o.ftx = 0.7;
    o.label_smoothing = kind == PrefLoss::Sigmoid ? 0.1 : 0.0;
    o.simpo_gamma = 0.4;
    PairLogps p;
    p.chosen = -0.8, p.rejected = -1.9, p.ref_chosen = -1.1, p.ref_rejected = -1.2, p.chosen_avg = -0.45;
    const PairLoss l = preference_loss(p, o);
    const double h = 1e-6;
    auto fd = [&](double PairLogps::*field) {
      PairLogps up = p, down = p;
      up.*field += h;
      down.*field -= h;
      return (preference_loss(up, o).loss - preference_loss(down, o).loss) / (2 * h);
    };
    EXPECT_NEAR(l.d_chosen, fd(&PairLogps::chosen), 1e-7) << static_cast<int>(kind);
    EXPECT_NEAR(l.d_rejected, fd(&PairLogps::rejected), 1e-7) << static_cast<int>(kind);
    EXPECT_NEAR(l.d_chosen_avg, fd(&PairLogps::chosen_avg), 1e-7) << static_cast<int>(kind);
  }
}

TEST(PreferenceMetrics, TrlNamesOrderAndMeans) {
  PairLogps a, b;
  a.chosen = -1, a.rejected = -3, b.chosen = -4, b.rejected = -2;
  const PrefLossOptions o = opts(PrefLoss::Orpo);
  const std::vector<PairLogps> logps = {a, b};
  const std::vector<PairLoss> losses = {preference_loss(a, o), preference_loss(b, o)};
  const auto m = preference_metrics(logps, losses, 0.25, -0.5, o);
  const std::vector<std::string> names = {"rewards/chosen", "rewards/rejected", "rewards/accuracies",
                                          "rewards/margins", "logps/chosen",    "logps/rejected",
                                          "logits/chosen",  "logits/rejected",  "sft_loss",
                                          "odds_ratio_loss"};
  ASSERT_EQ(m.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(m[i].first, names[i]);
  EXPECT_DOUBLE_EQ(m[0].second, static_cast<float>(-0.25));  // beta * mean(-1, -4)
  EXPECT_DOUBLE_EQ(m[2].second, 0.5);                         // one of two pairs prefers chosen
  EXPECT_NEAR(m[3].second, 0.0, 1e-9);                         // (0.2 + -0.2) / 2
  EXPECT_DOUBLE_EQ(m[6].second, 0.25);
  EXPECT_EQ(preference_metrics(logps, losses, 0, 0, opts(PrefLoss::Sigmoid)).size(), 8u);
  EXPECT_THROW(preference_metrics({}, {}, 0, 0, o), Error);
}

}  // namespace
}  // namespace tune
