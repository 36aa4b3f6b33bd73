// The bundled age_bias example data and tokenizer load through tune.cpp's own loaders as rm_lora.yaml describes them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "config/plan.h"
#include "config/plan_data.h"
#include "data/dataset.h"
#include "text/tokenizer.h"

namespace tune {
namespace {

const std::filesystem::path kRoot = std::filesystem::path(TUNE_TEST_DATA) / ".." / "..";
const std::filesystem::path kExample = kRoot / "examples" / "age_bias";

TEST(ExampleAgeBias, TokenizerHasTheGemmaSpecialsAndTurnMarkers) {
  const Tokenizer tok = Tokenizer::load(kExample / "model");
  EXPECT_EQ(tok.vocab_size(), 2000);
  EXPECT_EQ(tok.pad_id(), 0);
  EXPECT_EQ(tok.eos_id(), 1);
  EXPECT_EQ(tok.bos_id(), 2);
  EXPECT_EQ(tok.unk_id(), 3);
  EXPECT_EQ(tok.piece_to_id("<start_of_turn>"), 5);
  EXPECT_EQ(tok.piece_to_id("<end_of_turn>"), 6);
  // HF transformers' GemmaTokenizer gives these ids (tools/examples/check_age_bias_tokenizer.py checks the rest).
  EXPECT_EQ(tok.encode("The 68-year-old was quiet that night."),
            (TokenIds{281, 1935, 1974, 1973, 1953, 280, 1953, 275, 366, 767, 683, 765, 1948}));
}

DataOptions example_data(const std::string& dataset) {
  Plan plan = load_plan(kExample / "rm_lora.yaml");
  plan.dataset = {dataset};
  DataOptions opts = data_options(plan);
  opts.dataset_dir = kRoot / opts.dataset_dir;  // the config's paths are relative to the repository root
  return opts;
}

TEST(ExampleAgeBias, TrainingSetPreparesAsRewardModelPairs) {
  const Tokenizer tok = Tokenizer::load(kExample / "model");
  const PreparedData data = prepare_dataset(example_data("age_bias"), tok);
  ASSERT_EQ(data.pairwise.size(), 2688u);
  EXPECT_EQ(data.dropped, 0);
  // First pair: <bos><start_of_turn>user\n ... <end_of_turn>\n<start_of_turn>model\n | answer + <eos>.
  const PairwiseExample& first = data.pairwise[0];
  ASSERT_EQ(first.prompt_ids.size(), 117u);
  EXPECT_EQ(TokenIds(first.prompt_ids.begin(), first.prompt_ids.begin() + 4), (TokenIds{2, 5, 329, 17}));
  EXPECT_EQ(TokenIds(first.prompt_ids.end() - 5, first.prompt_ids.end()), (TokenIds{6, 17, 5, 331, 17}));
  EXPECT_EQ(first.chosen_ids, (TokenIds{281, 1935, 1974, 1973, 1953, 280, 1953, 275, 366, 767, 683, 765, 1948, 1}));
  EXPECT_EQ(first.rejected_ids, (TokenIds{400, 452, 1977, 1938, 356, 371, 384, 598, 364, 542, 1948, 1}));
  size_t longest = 0;
  for (const auto& p : data.pairwise) {
    EXPECT_NE(p.chosen_ids, p.rejected_ids);
    longest = std::max(longest, p.prompt_ids.size() + std::max(p.chosen_ids.size(), p.rejected_ids.size()));
  }
  EXPECT_EQ(longest, 150u);  // under cutoff_len 256: nothing is truncated
  const SplitIndices split = split_indices(static_cast<int64_t>(data.pairwise.size()), 0.05, 42);
  EXPECT_EQ(split.eval.size(), 135u);  // ceil(0.05 * 2688)
  EXPECT_EQ(split.train.size(), 2553u);
}

TEST(ExampleAgeBias, HeldOutSetLoads) {
  const Tokenizer tok = Tokenizer::load(kExample / "model");
  const PreparedData data = prepare_dataset(example_data("age_bias_test"), tok);
  EXPECT_EQ(data.pairwise.size(), 200u);
  EXPECT_EQ(data.dropped, 0);
}

}  // namespace
}  // namespace tune
