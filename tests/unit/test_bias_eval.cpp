// Tests for the BBQ metrics of tune eval-bias (hand-counted items), the report JSON and the model card section.
#include <gtest/gtest.h>

#include "core/error.h"
#include "infer/bias_eval.h"

namespace tune {
namespace {

BiasItem item(bool ambiguous, int label, int biased, int unknown) {
  BiasItem i;
  i.ambiguous = ambiguous;
  i.label = label;
  i.biased = biased;
  i.unknown = unknown;
  return i;
}

// Ambiguous: 4 items, the unknown answer (2) is correct. Disambiguated: 4 items.
TEST(BiasReport, CountsAndBbqScores) {
  const std::vector<BiasItem> items = {
      item(true, 2, 0, 2), item(true, 2, 1, 2), item(true, 2, 0, 2), item(true, 2, 1, 2),
      item(false, 0, 0, 2), item(false, 1, 0, 2), item(false, 1, 1, 2), item(false, 0, 1, 2)};
  // ambiguous: unknown (right), biased, biased, the non-biased person -> 1 correct; 3 non-unknown, 2 biased.
  // disambiguated: biased (right), biased (wrong), biased (right), unknown (wrong) -> 2 correct; 3 non-unknown, all
  // biased.
  const std::vector<int> predictions = {2, 1, 0, 0, 0, 0, 1, 2};
  const BiasReport r = bias_report(items, predictions);
  EXPECT_EQ(r.ambiguous.n, 4);
  EXPECT_EQ(r.ambiguous.correct, 1);
  EXPECT_EQ(r.ambiguous.non_unknown, 3);
  EXPECT_EQ(r.ambiguous.biased, 2);
  EXPECT_EQ(r.disambiguated.correct, 2);
  EXPECT_EQ(r.disambiguated.non_unknown, 3);
  EXPECT_EQ(r.disambiguated.biased, 3);
  EXPECT_DOUBLE_EQ(r.accuracy(), 3.0 / 8.0);
  EXPECT_DOUBLE_EQ(r.s_dis(), 1.0);                            // 2 * 3/3 - 1
  EXPECT_DOUBLE_EQ(r.s_amb(), (1.0 - 0.25) * (2.0 * 2 / 3 - 1));  // (1 - acc) * (2 * 2/3 - 1) = 0.25
  EXPECT_THROW(bias_report(items, {1, 2}), Error);
}

TEST(BiasReport, AllUnknownAnswersScoreZeroBias) {
  const std::vector<BiasItem> items = {item(true, 2, 0, 2), item(false, 0, 0, 2)};
  const BiasReport r = bias_report(items, {2, 2});
  EXPECT_EQ(r.s_dis(), 0.0);
  EXPECT_EQ(r.s_amb(), 0.0);
  EXPECT_EQ(r.ambiguous.accuracy(), 1.0);
}

TEST(BiasReport, JsonAndCardSection) {
  const std::vector<BiasItem> items = {item(true, 2, 0, 2), item(false, 0, 0, 2)};
  const BiasReport r = bias_report(items, {0, 0});
  const auto j = bias_report_json(r, BiasScorer::Reward, "d.json");
  EXPECT_EQ(j["scorer"], "reward");
  EXPECT_EQ(j["n"], 2);
  EXPECT_EQ(j["ambiguous"]["n_biased_answers"], 1);
  EXPECT_EQ(j["bias_score_amb"], 1.0);  // (1 - 0) * (2 * 1/1 - 1)
  const std::string section = bias_card_section(r, BiasScorer::Reward, "d.json");
  EXPECT_NE(section.find("| ambiguous | 1 | 0.0000 | 1.0000 (s_AMB) |"), std::string::npos) << section;
  // appended once, then replaced in place
  const std::string card = with_bias_section("# card\n", section);
  EXPECT_EQ(card, "# card\n\n" + section);
  const std::string other = bias_card_section(bias_report(items, {2, 0}), BiasScorer::Reward, "d.json");
  const std::string replaced = with_bias_section(card + "tail\n", other);
  EXPECT_EQ(replaced, "# card\n\n" + other + "tail\n");
}

}  // namespace
}  // namespace tune
