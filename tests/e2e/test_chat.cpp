// `tune chat` end to end with stdin piped in: streamed replies equal the library's generation for the same
// conversation (history, /clear, /exit), seeded sampling repeats, and a config without a template is an error.
#include <gtest/gtest.h>

#include "config/plan.h"
#include "e2e/e2e_support.h"
#include "infer/generator.h"
#include "infer/inference_model.h"

namespace tune::e2e {
namespace {

class Chat : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    make_tiny_model(*dir_ / "model", *dir_ / "new_model.log");
    // Greedy with a strong repetition penalty: a random model then says something different at every step.
    write_text(*dir_ / "chat.yaml", "model_name_or_path: " + (*dir_ / "model").string() +
                                        "\ntemplate: gemma\ndo_sample: false\nrepetition_penalty: 3.0\n"
                                        "max_new_tokens: 10\nthreads: 1\n");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static TempDir* dir_;
};
TempDir* Chat::dir_ = nullptr;

// The reply the library gives to a conversation ending with a user message, decoded as chat streams it.
std::string library_reply(const InferenceModel& m, Generator& gen, const std::vector<Message>& conversation) {
  const Generation g = gen.generate(chat_prompt_ids(m, conversation, ""), SamplingParams::from_plan(m.plan));
  std::vector<int32_t> kept;
  for (const int32_t id : g.tokens)
    if (!m.tokenizer->is_special(id)) kept.push_back(id);
  return m.tokenizer->decode(kept);
}

TEST_F(Chat, PipedConversationWithHistoryClearAndExit) {
  const ChatRun r = run_chat({(*dir_ / "chat.yaml").string()},
                             "hello there\nhow old are you?\n/clear\nhello there\n/exit\nnever read\n", dir_->path());
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const InferenceModel m = load_inference_model(load_plan(*dir_ / "chat.yaml"));
  Generator gen(m);
  const std::string a1 = library_reply(m, gen, {{Role::User, "hello there"}});
  const std::string a2 = library_reply(
      m, gen, {{Role::User, "hello there"}, {Role::Assistant, a1}, {Role::User, "how old are you?"}});
  ASSERT_FALSE(a1.empty());
  EXPECT_NE(a1, a2);
  EXPECT_EQ(r.out, "Assistant: " + a1 + "\nAssistant: " + a2 + "\nHistory has been removed.\nAssistant: " + a1 + "\n");
  EXPECT_NE(r.err.find("/clear"), std::string::npos) << r.err;
}

TEST_F(Chat, CommandsWithSpacesAndBlankLines) {
  // Blank lines are no messages; commands typed with spaces around them are still commands.
  const ChatRun r = run_chat({(*dir_ / "chat.yaml").string()},
                             "hello there\n  /clear \n \t \r\nhello there\n /exit\t\nnever read\n", dir_->path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const InferenceModel m = load_inference_model(load_plan(*dir_ / "chat.yaml"));
  Generator gen(m);
  const std::string a = library_reply(m, gen, {{Role::User, "hello there"}});
  EXPECT_EQ(r.out, "Assistant: " + a + "\nHistory has been removed.\nAssistant: " + a + "\n");
}

TEST_F(Chat, EndOfInputQuitsAndSeededSamplingRepeats) {
  const std::vector<std::string> args = {(*dir_ / "chat.yaml").string(), "do_sample=true", "temperature=1.0",
                                         "top_p=0.9", "seed=5"};
  const ChatRun a = run_chat(args, "tell me something\n", dir_->path());
  const ChatRun b = run_chat(args, "tell me something\n", dir_->path());
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(a.out.rfind("Assistant: ", 0), 0u) << a.out;
}

TEST_F(Chat, AdapterMergedOrAsALoraBranch) {
  const fs::path fixture = kRepo / "tests" / "data" / "trajectory";  // a tiny model with its tokenizer and adapter
  write_text(*dir_ / "adapter.yaml", "model_name_or_path: " + (fixture / "model").string() +
                                         "\nadapter_name_or_path: " + (fixture / "adapter").string() +
                                         "\ntemplate: gemma\ndo_sample: false\nrepetition_penalty: 2.0\n"
                                         "max_new_tokens: 8\nthreads: 1\n");
  for (const std::string merge : {"true", "false"}) {
    const ChatRun r = run_chat({(*dir_ / "adapter.yaml").string(), "infer_merge_adapters=" + merge},
                               "Is the sky blue?\n", dir_->path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find(merge == "true" ? "merged adapter" : "as a LoRA branch"), std::string::npos) << r.err;
    const InferenceModel m =
        load_inference_model(load_plan(*dir_ / "adapter.yaml", {"infer_merge_adapters=" + merge}));
    Generator gen(m);
    const std::string a = library_reply(m, gen, {{Role::User, "Is the sky blue?"}});
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(r.out, "Assistant: " + a + "\n") << "infer_merge_adapters=" << merge;
  }
}

TEST_F(Chat, IdsPastTheTokenizerAreSkippedNotFatal) {
  // config.json's vocab_size 3000 pads the tokenizer's 2000 ids; hot sampling picks padded ids often.
  const fs::path model = *dir_ / "padded_vocab";
  const TuneRun made = run_tune({"new-model", model.string(), "--vocab", "3000", "--hidden", "32", "--intermediate",
                                 "64", "--layers", "2", "--heads", "2", "--kv-heads", "1", "--head-dim", "16"},
                                *dir_ / "padded.log");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  for (const char* name : {"tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"})
    fs::copy_file(kExample / "model" / name, model / name);
  write_text(*dir_ / "padded.yaml", "model_name_or_path: " + model.string() +
                                        "\ntemplate: gemma\ndo_sample: true\ntemperature: 3.0\ntop_k: 0\n"
                                        "top_p: 1.0\nmax_new_tokens: 30\nseed: 1\nthreads: 1\n");
  const ChatRun r = run_chat({(*dir_ / "padded.yaml").string()}, "hello\n", dir_->path());
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const InferenceModel m = load_inference_model(load_plan(*dir_ / "padded.yaml", {}));
  ASSERT_EQ(m.tokenizer->vocab_size(), 2000);
  Generator gen(m);
  const Generation g = gen.generate(chat_prompt_ids(m, {{Role::User, "hello"}}, ""), SamplingParams::from_plan(m.plan));
  std::vector<int32_t> kept;
  for (const int32_t id : g.tokens)
    if (id < 2000 && !m.tokenizer->is_special(id)) kept.push_back(id);
  ASSERT_LT(kept.size(), g.tokens.size()) << "no padded id was sampled";
  EXPECT_EQ(r.out, "Assistant: " + m.tokenizer->decode(kept) + "\n");
}

TEST_F(Chat, ConfigWithoutTemplateIsAnError) {
  write_text(*dir_ / "no_template.yaml", "model_name_or_path: " + (*dir_ / "model").string() + "\n");
  const ChatRun r = run_chat({(*dir_ / "no_template.yaml").string()}, "hi\n", dir_->path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("error:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("template: gemma"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tune::e2e
