// chat_prompt_ids: LLaMA-Factory ChatModel's prompt (encode_oneturn of the messages plus an empty answer) for the
// seed-era gemma and the current gemma templates, default_system, cutoff_len, and its errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "infer/generator.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

InferenceModel chat_model(const std::string& template_name) {
  InferenceModel m;
  m.tokenizer.emplace(Tokenizer::load(fs::path(TUNE_TEST_DATA) / "tokenizer"));
  m.chat_template = &Template::get(template_name);
  m.plan.template_ = template_name;
  return m;
}

// Concatenation of the token ids of each text, each encoded on its own (as the template encodes its slots).
std::vector<int32_t> ids_of(const Tokenizer& tok, std::initializer_list<std::string> texts, bool bos = true) {
  std::vector<int32_t> out;
  if (bos) out.push_back(tok.bos_id());
  for (const std::string& t : texts) {
    const std::vector<int32_t> ids = tok.encode(t);
    out.insert(out.end(), ids.begin(), ids.end());
  }
  return out;
}

const std::vector<Message> kTwoTurns = {
    {Role::User, "Hi"}, {Role::Assistant, "Hello! How can I help?"}, {Role::User, "Tell me a joke"}};

TEST(ChatPrompt, SeedGemmaTemplateWithHistory) {
  const InferenceModel m = chat_model("gemma");
  const Tokenizer& tok = *m.tokenizer;
  EXPECT_EQ(chat_prompt_ids(m, {{Role::User, "Hi"}}, ""),
            ids_of(tok, {"<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n"}));
  // History: the answer as it was (no <end_of_turn>: efficient eos), then the separator opens the next user turn.
  EXPECT_EQ(chat_prompt_ids(m, kTwoTurns, ""),
            ids_of(tok, {"<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n", "Hello! How can I help?",
                         "<end_of_turn>\n", "<start_of_turn>user\nTell me a joke<end_of_turn>\n<start_of_turn>model\n"}));
}

TEST(ChatPrompt, CurrentGemmaTemplateWithSystemAndDefaultSystem) {
  InferenceModel m = chat_model("gemma_current");
  const Tokenizer& tok = *m.tokenizer;
  const std::vector<int32_t> want =
      ids_of(tok, {"<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n",
                   "Hello! How can I help?<end_of_turn>\n",
                   "<start_of_turn>user\nTell me a joke<end_of_turn>\n<start_of_turn>model\n"});
  EXPECT_EQ(chat_prompt_ids(m, kTwoTurns, "Be brief."), want);
  m.plan.default_system = "Be brief.";
  EXPECT_EQ(chat_prompt_ids(m, kTwoTurns, ""), want);
}

TEST(ChatPrompt, CutoffLenKeepsTheHead) {
  InferenceModel m = chat_model("gemma");
  const std::vector<int32_t> full = chat_prompt_ids(m, kTwoTurns, "");
  m.plan.cutoff_len = 12;
  const std::vector<int32_t> cut = chat_prompt_ids(m, kTwoTurns, "");
  ASSERT_LT(cut.size(), full.size());
  EXPECT_LE(cut.size(), 12u);
  EXPECT_EQ(cut, std::vector<int32_t>(full.begin(), full.begin() + static_cast<long>(cut.size())));
}

TEST(ChatPrompt, CutoffLenWithNoRoomForThePromptIsAClearError) {
  InferenceModel m = chat_model("gemma");
  m.plan.cutoff_len = 1;
  try {
    const std::vector<int32_t> ids = chat_prompt_ids(m, kTwoTurns, "");
    FAIL() << "a prompt of " << ids.size() << " tokens";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cutoff_len 1 leaves no room"), std::string::npos) << e.what();
  }
}

TEST(ChatPrompt, Errors) {
  InferenceModel m = chat_model("gemma");
  EXPECT_THROW(chat_prompt_ids(m, {}, ""), Error);
  EXPECT_THROW(chat_prompt_ids(m, {{Role::User, "a"}, {Role::Assistant, "b"}}, ""), Error);
  m.chat_template = nullptr;
  try {
    chat_prompt_ids(m, {{Role::User, "a"}}, "");
    FAIL() << "no error without a template";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("template: gemma"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tune
