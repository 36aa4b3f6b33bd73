// Tests for reading score inputs: every accepted format of one conversation or pair gives the token ids the rm
// training data path gives (alpaca ranking rows: exactly prepare_dataset's), and bad objects name file:line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "data/dataset.h"
#include "infer/score_input.h"

namespace tune {
namespace {

const std::filesystem::path kExample = std::filesystem::path(TUNE_TEST_DATA) / ".." / ".." / "examples" / "age_bias";

class ScoreInput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = new InferenceModel();
    model_->tokenizer.emplace(Tokenizer::load(kExample / "model"));
    model_->chat_template = &Template::get("gemma");
    model_->plan.cutoff_len = 256;
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  static ScoreItem read(const std::string& json_text) {
    return read_score_item(Json::parse(json_text), *model_, {"in.jsonl", 7});
  }
  static std::string error_of(const std::string& json_text) {
    try {
      read(json_text);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  }
  // The template's ids of a conversation ending with the answer, + eos: what rm preprocessing builds.
  static TokenIds expected_ids(const std::vector<Message>& messages, const std::string& system) {
    TokenIds ids;
    for (const EncodedTurn& t : model_->chat_template->encode_multiturn(*model_->tokenizer, messages, system, 256)) {
      ids.insert(ids.end(), t.source.begin(), t.source.end());
      ids.insert(ids.end(), t.target.begin(), t.target.end());
    }
    ids.push_back(model_->tokenizer->eos_id());
    return ids;
  }
  static InferenceModel* model_;
};
InferenceModel* ScoreInput::model_ = nullptr;

TEST_F(ScoreInput, AlpacaRankingRowsGiveTheTrainingIds) {
  DataOptions opts;
  opts.stage = Stage::Rm;
  opts.datasets = {"age_bias_test"};
  opts.dataset_dir = kExample / "data";
  opts.template_name = "gemma";
  opts.cutoff_len = 256;
  const PreparedData data = prepare_dataset(opts, *model_->tokenizer);
  std::ifstream in(kExample / "data" / "age_bias_test.json");
  const Json rows = Json::parse(in);
  ASSERT_EQ(rows.size(), data.pairwise.size());
  for (size_t i = 0; i < rows.size(); i += 17) {
    const ScoreItem item = read_score_item(rows[i], *model_, {"in.jsonl", static_cast<int64_t>(i + 1)});
    const PairwiseExample& p = data.pairwise[i];
    TokenIds chosen = p.prompt_ids, rejected = p.prompt_ids;
    chosen.insert(chosen.end(), p.chosen_ids.begin(), p.chosen_ids.end());
    rejected.insert(rejected.end(), p.rejected_ids.begin(), p.rejected_ids.end());
    EXPECT_TRUE(item.pair);
    ASSERT_EQ(item.sequences.size(), 2u);
    EXPECT_EQ(item.sequences[0], chosen) << "row " << i;
    EXPECT_EQ(item.sequences[1], rejected) << "row " << i;
  }
}

TEST_F(ScoreInput, EveryFormatOfOneConversationGivesTheSameIds) {
  const TokenIds expected = expected_ids({{Role::User, "Who was careful?\nA. Ann"}, {Role::Assistant, "Ann."}}, "");
  for (const char* text : {
           R"({"messages": [{"role": "user", "content": "Who was careful?\nA. Ann"}, {"role": "assistant", "content": "Ann."}]})",
           R"({"conversations": [{"from": "human", "value": "Who was careful?\nA. Ann"}, {"from": "gpt", "value": "Ann."}]})",
           R"({"instruction": "Who was careful?", "input": "A. Ann", "output": "Ann."})",
           R"({"instruction": "Who was careful?\nA. Ann", "output": ["Ann."]})",
           R"({"prompt": "Who was careful?\nA. Ann", "response": "Ann.", "extra": 3})"}) {
    const ScoreItem item = read(text);
    EXPECT_FALSE(item.pair) << text;
    ASSERT_EQ(item.sequences.size(), 1u) << text;
    EXPECT_EQ(item.sequences[0], expected) << text;
  }
}

TEST_F(ScoreInput, SystemAndHistoryGoWhereTrainingPutsThem) {
  const TokenIds expected = expected_ids(
      {{Role::User, "q1"}, {Role::Assistant, "a1"}, {Role::User, "q2"}, {Role::Assistant, "a2"}}, "Be brief.");
  for (const char* text : {
           R"({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "q1"},
               {"role": "assistant", "content": "a1"}, {"role": "user", "content": "q2"},
               {"role": "assistant", "content": "a2"}]})",
           R"({"system": "Be brief.", "conversations": [{"from": "human", "value": "q1"}, {"from": "gpt", "value": "a1"},
               {"from": "human", "value": "q2"}, {"from": "gpt", "value": "a2"}]})",
           R"({"instruction": "q2", "output": "a2", "system": "Be brief.", "history": [["q1", "a1"]]})",
           R"({"prompt": "q2", "response": "a2", "system": "Be brief.", "history": [["q1", "a1"]]})"}) {
    const ScoreItem item = read(text);
    ASSERT_EQ(item.sequences.size(), 1u) << text;
    EXPECT_EQ(item.sequences[0], expected) << text;
  }
}

TEST_F(ScoreInput, EveryFormatOfOnePairGivesTheSameIds) {
  const TokenIds chosen = expected_ids({{Role::User, "Who?"}, {Role::Assistant, "Ann."}}, "");
  const TokenIds rejected = expected_ids({{Role::User, "Who?"}, {Role::Assistant, "Unknown."}}, "");
  for (const char* text : {
           R"({"messages": [{"role": "user", "content": "Who?"}], "chosen": "Ann.", "rejected": "Unknown."})",
           R"({"messages": [{"role": "user", "content": "Who?"}], "chosen": {"role": "assistant", "content": "Ann."},
               "rejected": {"role": "assistant", "content": "Unknown."}})",
           R"({"conversations": [{"from": "human", "value": "Who?"}], "chosen": "Ann.", "rejected": "Unknown."})",
           R"({"instruction": "Who?", "output": ["Ann.", "Unknown."]})",
           R"({"instruction": "Who?", "output": ["Ann.", "Unknown.", "Bob."]})",
           R"({"instruction": "Who?", "chosen": "Ann.", "rejected": "Unknown."})",
           R"({"prompt": "Who?", "chosen": "Ann.", "rejected": "Unknown."})"}) {
    const ScoreItem item = read(text);
    EXPECT_TRUE(item.pair) << text;
    ASSERT_EQ(item.sequences.size(), 2u) << text;
    EXPECT_EQ(item.sequences[0], chosen) << text;
    EXPECT_EQ(item.sequences[1], rejected) << text;
  }
}

TEST_F(ScoreInput, CutoffLenCutsAsTrainingDoes) {
  model_->plan.cutoff_len = 12;
  const ScoreItem item = read(R"({"prompt": "one two three four five six seven eight nine ten",
                                  "response": "eleven twelve thirteen fourteen fifteen sixteen"})");
  model_->plan.cutoff_len = 256;
  ASSERT_EQ(item.sequences.size(), 1u);
  EXPECT_EQ(item.sequences[0].size(), 13u);  // cutoff_len tokens, then the eos preprocess appends
  EXPECT_EQ(item.sequences[0].back(), model_->tokenizer->eos_id());
}

TEST_F(ScoreInput, BadObjectsNameTheLineAndTheFix) {
  EXPECT_EQ(error_of("[1, 2]"), "in.jsonl:7: expected a JSON object, got array");
  EXPECT_NE(error_of(R"({"text": "hi"})").find("in.jsonl:7: no conversation to score; give \"messages\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"prompt": "q", "chosen": "a"})").find("in.jsonl:7: a pair needs both"), std::string::npos);
  EXPECT_NE(error_of(R"({"messages": [{"role": "user", "content": "q"}]})")
                .find("in.jsonl:7: the last message of \"messages\" must be the assistant's answer"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
                         "chosen": "x", "rejected": "y"})")
                .find("must end with the user's message"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"messages": [{"role": "assistant", "content": "q"}, {"role": "user", "content": "a"}]})")
                .find("in.jsonl:7: cannot score this conversation: the sharegpt roles do not alternate"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"instruction": "q"})").find("in.jsonl:7: no answer to score"), std::string::npos);
  // answers of other types were ignored: the rest scored as one conversation (here the first answer "a")
  EXPECT_EQ(error_of(R"({"prompt": "q", "response": "a", "chosen": 1, "rejected": 2})"),
            "in.jsonl:7: \"chosen\" must be a string, got 1");
  EXPECT_EQ(error_of(R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"},
                                      {"role": "user", "content": "q2"}], "chosen": "x", "rejected": null})"),
            "in.jsonl:7: \"rejected\" must be a string or a message object, got null");
  EXPECT_NE(error_of(R"({"prompt": 5, "response": "a"})").find("in.jsonl:7: column 'prompt' must be a string"),
            std::string::npos);
  const Template* tmpl = model_->chat_template;
  model_->chat_template = nullptr;
  EXPECT_NE(error_of(R"({"prompt": "q", "response": "a"})").find("set template:"), std::string::npos);
  model_->chat_template = tmpl;
}

}  // namespace
}  // namespace tune
