// prepare_dataset against LLaMA-Factory v0.5.x token ids (tests/data/datasets/expected.json, written by
// tools/reference/make_dataset_golden.py with HF's tokenizer) for every stage and fixture dataset.
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "data/dataset.h"

namespace tune {
namespace {

using nlohmann::json;

const std::string kData = std::string(TUNE_TEST_DATA) + "/datasets";

const json& expected_cases() {
  static const json doc = [] {
    std::ifstream in(kData + "/expected.json");
    return json::parse(in);
  }();
  return doc.at("cases");
}

const json& find_case(const std::string& name) {
  for (const json& c : expected_cases()) {
    if (c.at("name") == name) return c;
  }
  throw std::runtime_error("no case " + name + " in expected.json");
}

const Tokenizer& tokenizer() {
  static const Tokenizer tok = Tokenizer::load(std::string(TUNE_TEST_DATA) + "/tokenizer");
  return tok;
}

DataOptions options_of(const json& c) {
  DataOptions opts;
  const std::string stage = c.at("stage");
  opts.stage = stage == "pt" ? Stage::Pt : stage == "sft" ? Stage::Sft : Stage::Rm;
  opts.datasets = c.at("datasets").get<std::vector<std::string>>();
  opts.dataset_dir = kData;
  opts.template_name = c.at("template");
  opts.cutoff_len = c.at("cutoff_len");
  if (!c.at("max_samples").is_null()) opts.max_samples = c.at("max_samples").get<int64_t>();
  opts.train_on_prompt = c.at("train_on_prompt");
  return opts;
}

TokenIds ids(const json& v) { return v.get<TokenIds>(); }

const char* const kCases[] = {
    "sft_alpaca",   "sft_alpaca_cutoff", "sft_alpaca_train_on_prompt", "sft_alpaca_default_template",
    "sft_alpaca_defaults", "sft_sharegpt", "sft_two_datasets_max_samples", "rm_seed",
    "rm_seed_cutoff", "rm_seed_default_template", "rm_current", "rm_sharegpt",
    "pt_text",      "pt_folder",         "pt_many"};

class GoldenCase : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenCase, TokenIdsEqualLlamaFactory) {
  const json& c = find_case(GetParam());
  PreparedData data = prepare_dataset(options_of(c), tokenizer());
  EXPECT_EQ(data.dropped, c.at("dropped").get<int64_t>());
  EXPECT_EQ(data.dropped == 0, data.drop_summary.empty()) << data.drop_summary;
  if (c.contains("supervised")) {
    const json& want = c.at("supervised");
    ASSERT_EQ(data.supervised.size(), want.size());
    EXPECT_TRUE(data.pairwise.empty());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(data.supervised[i].input_ids, ids(want[i].at("input_ids"))) << "example " << i;
      EXPECT_EQ(data.supervised[i].labels, ids(want[i].at("labels"))) << "example " << i;
    }
  } else {
    const json& want = c.at("pairwise");
    ASSERT_EQ(data.pairwise.size(), want.size());
    EXPECT_TRUE(data.supervised.empty());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(data.pairwise[i].prompt_ids, ids(want[i].at("prompt_ids"))) << "example " << i;
      EXPECT_EQ(data.pairwise[i].chosen_ids, ids(want[i].at("chosen_ids"))) << "example " << i;
      EXPECT_EQ(data.pairwise[i].rejected_ids, ids(want[i].at("rejected_ids"))) << "example " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Datasets, GoldenCase, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param); });

TEST(DataGolden, EveryGeneratedCaseIsTested) {
  std::set<std::string> tested(std::begin(kCases), std::end(kCases));
  std::set<std::string> generated;
  for (const json& c : expected_cases()) generated.insert(c.at("name"));
  EXPECT_EQ(tested, generated);
}

// Spot checks that the fixtures exercise what they should (independent of the generator).
TEST(DataGolden, GemmaSftMasksPromptsAndLearnsEfficientEos) {
  const Tokenizer& tok = tokenizer();
  PreparedData data = prepare_dataset(options_of(find_case("sft_alpaca")), tok);
  const SupervisedExample& multi = data.supervised[2];  // two history turns + the last turn
  ASSERT_EQ(multi.input_ids.size(), multi.labels.size());
  EXPECT_EQ(multi.input_ids.front(), tok.bos_id());
  EXPECT_EQ(multi.labels.front(), -100);
  EXPECT_EQ(multi.input_ids.back(), tok.eos_id());
  EXPECT_EQ(multi.labels.back(), tok.eos_id());
  // each later turn opens with <end_of_turn>, whose label is the eos that ends the previous answer
  int32_t end_of_turn = *tok.piece_to_id("<end_of_turn>");
  int eos_labels_at_turn_starts = 0;
  for (size_t i = 0; i < multi.input_ids.size(); ++i) {
    if (multi.input_ids[i] == end_of_turn && multi.labels[i] == tok.eos_id()) ++eos_labels_at_turn_starts;
  }
  EXPECT_EQ(eos_labels_at_turn_starts, 2);
  EXPECT_NE(data.drop_summary.find("1 dropped because they do not have exactly one response"), std::string::npos)
      << data.drop_summary;
}

TEST(DataGolden, RmPromptIsSharedAndAnswersEndWithEos) {
  const Tokenizer& tok = tokenizer();
  PreparedData data = prepare_dataset(options_of(find_case("rm_seed")), tok);
  ASSERT_EQ(data.pairwise.size(), 4u);
  for (const PairwiseExample& p : data.pairwise) {
    EXPECT_EQ(p.prompt_ids.front(), tok.bos_id());
    EXPECT_EQ(p.chosen_ids.back(), tok.eos_id());
    EXPECT_EQ(p.rejected_ids.back(), tok.eos_id());
    EXPECT_NE(p.chosen_ids, p.rejected_ids);
  }
}

TEST(DataGolden, PretrainBlocksAreExactlyCutoffLong) {
  PreparedData data = prepare_dataset(options_of(find_case("pt_many")), tokenizer());
  ASSERT_FALSE(data.supervised.empty());
  for (const SupervisedExample& ex : data.supervised) {
    EXPECT_EQ(ex.input_ids.size(), 7u);
    EXPECT_EQ(ex.labels, ex.input_ids);  // no pad ids in the text
  }
}

}  // namespace
}  // namespace tune
