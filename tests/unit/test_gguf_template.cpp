// The chat template a GGUF model gets when the config names none (text/gguf_template.h): from the real SmolLM2 file's
// stored Jinja template and the real Gemma 3 file's architecture, from each recognised marker, and into the plan.
#include <gtest/gtest.h>

#include "config/plan.h"
#include "core/error.h"
#include "io/gguf.h"
#include "real_gguf.h"
#include "text/gguf_template.h"
#include "text/gguf_tokenizer.h"
#include "text/template.h"
#include "unit/tiny_gguf.h"

namespace fs = std::filesystem;
using tune::GgufFile;
using tune::test::TinyGguf;

namespace {

std::string chosen(const std::string& arch, const char* stored) {
  TinyGguf g;
  g.str("general.architecture", arch);
  if (stored) g.str("tokenizer.chat_template", stored);
  const auto choice = tune::choose_gguf_template(g.parse());
  return choice ? choice->name : "(none)";
}

}  // namespace

TEST(GgufTemplate, SmolLM2StoredTemplateIsSmolLM2) {
  TUNE_REAL_GGUF(path, tune::test::kSmolLM2Gguf);
  const GgufFile gguf = GgufFile::open(path);
  const auto choice = tune::choose_gguf_template(gguf);
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->name, "smollm2");
  EXPECT_EQ(choice->reason,
            "recognised from the file's stored chat template (<|im_start|> and SmolLM's default system prompt)");
  // What differs from LF's smollm2: the stored template's default system prompt has no final period.
  const std::string stored = gguf.get_string("tokenizer.chat_template");
  EXPECT_NE(stored.find("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
                        "Face<|im_end|>\n"),
            std::string::npos);
  const tune::Tokenizer tok = tune::tokenizer_from_gguf(gguf);
  const auto turns = tune::Template::get("smollm2").encode_multiturn(
      tok, {{tune::Role::User, "Hi"}, {tune::Role::Assistant, "Hello"}}, "", 1024);
  ASSERT_EQ(turns.size(), 1u);
  EXPECT_EQ(tok.decode(turns[0].source),
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face.<|im_end|>\n"
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  // The rest of the format is the stored template's: "<|im_start|>{role}\n{content}<|im_end|>\n" per message.
  EXPECT_NE(stored.find("'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'"),
            std::string::npos);
  EXPECT_EQ(tok.decode(turns[0].target), "Hello<|im_end|>\n");
}

TEST(GgufTemplate, Gemma3WithoutStoredTemplateByArchitecture) {
  TUNE_REAL_GGUF(path, tune::test::kGemma3Gguf);
  const GgufFile gguf = GgufFile::open(path);
  EXPECT_EQ(gguf.find("tokenizer.chat_template"), nullptr);
  const auto choice = tune::choose_gguf_template(gguf);
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->name, "gemma3");
  EXPECT_EQ(choice->reason, "the file stores no chat template; the one of architecture gemma3");
}

TEST(GgufTemplate, Markers) {
  EXPECT_EQ(chosen("gemma3", "{{ '<start_of_turn>user\n' }}"), "gemma3");
  EXPECT_EQ(chosen("gemma2", "{{ '<start_of_turn>user\n' }}"), "gemma2");
  EXPECT_EQ(chosen("gemma", "{{ '<start_of_turn>user\n' }}"), "gemma_current");
  EXPECT_EQ(chosen("llama", "{{ '<|start_header_id|>' + role }}"), "llama3");
  EXPECT_EQ(chosen("llama", "{{ '[INST] <<SYS>>\n' }}"), "llama2");
  EXPECT_EQ(chosen("llama", "{{ '[INST] ' + content + '[/INST]' }}"), "mistral");
  EXPECT_EQ(chosen("qwen2", "{{ '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud.' }}"), "qwen");
  EXPECT_EQ(chosen("qwen3", "{{ '<|im_start|>' }}<think>"), "qwen3_nothink");
  EXPECT_EQ(chosen("llama", "{{ '<|im_start|>' + role }}"), "chatml");
  for (const char* name : {"gemma3", "gemma2", "gemma_current", "llama3", "llama2", "mistral", "qwen",
                           "qwen3_nothink", "chatml", "smollm2"})
    EXPECT_EQ(tune::Template::get(name).name(), name);  // every choice is a registered template
}

TEST(GgufTemplate, NoChoice) {
  EXPECT_EQ(chosen("gemma2", nullptr), "gemma2");
  EXPECT_EQ(chosen("gemma", nullptr), "gemma_current");
  EXPECT_EQ(chosen("llama", nullptr), "(none)");               // no stored template, no family default
  EXPECT_EQ(chosen("llama", "{{ 'User: ' + content }}"), "(none)");  // a stored template of another form
}

namespace {

class GgufTemplatePlan : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tune_test_gguf_template_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    model_ = dir_ / "model.gguf";
    TinyGguf().str("general.architecture", "llama").str("tokenizer.chat_template", "{{ '<|im_start|>' }}").write(model_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  tune::Plan plan(const std::string& extra = "") {
    return tune::parse_plan("model_name_or_path: " + model_.string() + "\n" + extra, tune::ConfigFormat::Yaml,
                            "config.yaml", {});
  }
  fs::path dir_, model_;
};

}  // namespace

TEST_F(GgufTemplatePlan, ChosenWhenTheConfigNamesNone) {
  const tune::Plan p = plan();
  EXPECT_EQ(p.template_, "chatml");
  const std::string printed = tune::plan_to_yaml(p);
  EXPECT_NE(printed.find("template: chatml\n#   (the config names none; recognised from the file's stored chat "
                         "template (<|im_start|>))\n"),
            std::string::npos)
      << printed;
  // The printed plan names the template, so it loads back to the same choice.
  EXPECT_EQ(tune::parse_plan(printed, tune::ConfigFormat::Yaml, "printed", {}).template_, "chatml");
}

TEST_F(GgufTemplatePlan, TheConfigsTemplateWins) {
  const tune::Plan p = plan("template: empty\n");
  EXPECT_EQ(p.template_, "empty");
  EXPECT_EQ(p.template_origin, "");
  EXPECT_EQ(tune::plan_to_yaml(p).find("the config names none"), std::string::npos);
}

TEST_F(GgufTemplatePlan, UnrecognisedStoredTemplateStillNeedsTheKey) {
  TinyGguf().str("general.architecture", "llama").str("tokenizer.chat_template", "{{ 'User: ' }}").write(model_);
  try {
    plan();
    FAIL() << "an sft plan without a template must be refused";
  } catch (const tune::Error& e) {
    EXPECT_NE(std::string(e.what()).find("needs a template"), std::string::npos) << e.what();
  }
}
