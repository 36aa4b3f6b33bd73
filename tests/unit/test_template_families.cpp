// The model families' chat templates (llama3, llama2, mistral, qwen, qwen3_nothink, chatml, smollm, smollm2,
// gemma2, gemma3) against a Python rendition of LLaMA-Factory's encoder on each family's tokenizer
// (tests/data/hf_tokenizer/templates.json, tools/reference/make_hf_tokenizer_golden.py), plus their stop ids.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "text/template.h"
#include "text/tokenizer.h"
#include "unit/hf_tokenizer_fixture.h"

using json = nlohmann::json;
using tune::EncodedTurn;
using tune::Message;
using tune::Role;
using tune::Template;
using tune::TokenIds;
using tune::Tokenizer;

namespace {

const json& golden() {
  static const json g = tune_test::read_json_file(tune_test::kHfTokenizers / "templates.json");
  return g;
}

const Tokenizer& tok(const std::string& name) {
  static std::map<std::string, Tokenizer> loaded;
  if (auto it = loaded.find(name); it != loaded.end()) return it->second;
  return loaded.emplace(name, Tokenizer::load(tune_test::hf_tokenizer_folder(name))).first->second;
}

std::vector<Message> messages_of(const json& list) {
  std::vector<Message> out;
  for (const json& m : list)
    out.push_back({m["role"] == "user" ? Role::User : Role::Assistant, m["content"].get<std::string>()});
  return out;
}

// The tokenizer each template's golden cases use.
std::string tokenizer_of(const std::string& template_name) {
  for (const json& c : golden()["templates"])
    if (c["template"] == template_name) return c["tokenizer"].get<std::string>();
  return "";
}

}  // namespace

TEST(TemplateFamilies, MatchLlamaFactoryForEveryGoldenCase) {
  const json& cases = golden()["templates"];
  ASSERT_GE(cases.size(), 200u);
  std::set<std::string> templates;
  int truncated = 0;
  for (const json& c : cases) {
    const std::string name = c["template"].get<std::string>();
    const json& conv = golden()["conversations"][c["conversation"].get<std::string>()];
    const int cutoff = c["cutoff_len"].get<int>();
    SCOPED_TRACE(name + " / " + c["conversation"].get<std::string>() + " / cutoff " + std::to_string(cutoff));
    const std::vector<EncodedTurn> got = Template::get(name).encode_multiturn(
        tok(c["tokenizer"].get<std::string>()), messages_of(conv["messages"]), conv["system"].get<std::string>(),
        cutoff);
    const json& want = c["turns"];
    ASSERT_EQ(got.size(), want.size());
    for (size_t t = 0; t < got.size(); ++t) {
      EXPECT_EQ(got[t].source, want[t]["source"].get<TokenIds>()) << "turn " << t;
      EXPECT_EQ(got[t].target, want[t]["target"].get<TokenIds>()) << "turn " << t;
    }
    templates.insert(name);
    truncated += want.size() < conv["messages"].size() / 2;
  }
  EXPECT_EQ(templates.size(), 10u);
  EXPECT_GT(truncated, 0);
}

TEST(TemplateFamilies, EosAndEfficientEos) {
  for (const auto& [name, eos] : golden()["template_eos_ids"].items()) {
    const Template& t = Template::get(name);
    EXPECT_EQ(t.eos_id(tok(tokenizer_of(name))), eos.get<int>()) << name;
    EXPECT_EQ(t.efficient_eos(), golden()["template_efficient_eos"][name].get<bool>()) << name;
  }
}

TEST(TemplateFamilies, StopIdsAreTheEosThenTheStopWordsTheTokenizerHas) {
  const Tokenizer& llama = tok("llama3_style");
  const auto eot = llama.piece_to_id("<|eot_id|>"), eom = llama.piece_to_id("<|eom_id|>");
  ASSERT_TRUE(eot && eom);
  EXPECT_EQ(Template::get("llama3").stop_ids(llama), (std::vector<int32_t>{*eot, *eom}));
  const Tokenizer& smol = tok("smollm2");
  const auto im_end = smol.piece_to_id("<|im_end|>"), im_start = smol.piece_to_id("<|im_start|>");
  EXPECT_EQ(Template::get("chatml").stop_ids(smol), (std::vector<int32_t>{*im_end, *im_start}));
  EXPECT_EQ(Template::get("smollm2").stop_ids(smol), (std::vector<int32_t>{smol.eos_id()}));  // eos is <|im_end|>
  const Tokenizer& gemma = tok("gemma3");
  const auto eot_gemma = gemma.piece_to_id("<end_of_turn>");
  EXPECT_EQ(Template::get("gemma2").stop_ids(gemma), (std::vector<int32_t>{gemma.eos_id(), *eot_gemma}));
  EXPECT_EQ(Template::get("gemma3").stop_ids(gemma), (std::vector<int32_t>{*eot_gemma}));
  // mistral has no stop words; a stop word the tokenizer lacks is left out (SmolLM2 has no <eos>, <end_of_turn>).
  EXPECT_EQ(Template::get("mistral").stop_ids(tok("mistral_style")), (std::vector<int32_t>{2}));
  EXPECT_EQ(Template::get("gemma2").stop_ids(smol), (std::vector<int32_t>{smol.eos_id()}));
}
