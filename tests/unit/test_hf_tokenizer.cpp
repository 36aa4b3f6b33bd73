// tokenizer.json tokenizers against HF transformers + tokenizers (tests/data/hf_tokenizer,
// tools/reference/make_hf_tokenizer_golden.py): the real SmolLM2 and Gemma 3 vocabularies and tiny tokenizers in each
// family's form; ids with and without special tokens, decode, skip_special_tokens, special ids, and load errors.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "text/tokenizer.h"
#include "unit/hf_tokenizer_fixture.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using tune::Tokenizer;
using tune_test::hf_tokenizer_folder;
using tune_test::kHfTokenizers;
using tune_test::read_json_file;

namespace {

class Environment : public ::testing::Environment {
 public:
  void TearDown() override { tune_test::remove_inflated_hf_tokenizers(); }
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new Environment);

class HfTokenizerGolden : public ::testing::TestWithParam<std::string> {
 protected:
  static const Tokenizer& tok(const std::string& name) {
    static std::map<std::string, Tokenizer> loaded;
    if (auto it = loaded.find(name); it != loaded.end()) return it->second;
    return loaded.emplace(name, Tokenizer::load(hf_tokenizer_folder(name))).first->second;
  }
  static json expected(const std::string& name) { return read_json_file(kHfTokenizers / name / "expected.json"); }
};

std::string show(const std::string& text) { return json(text).dump(); }

}  // namespace

TEST_P(HfTokenizerGolden, SpecialIdsAndVocabularySize) {
  const Tokenizer& t = tok(GetParam());
  const json e = expected(GetParam());
  EXPECT_STREQ(t.source_file(), "tokenizer.json");
  EXPECT_EQ(t.vocab_size(), e["vocab_size"].get<int>());
  EXPECT_EQ(t.bos_id(), e["special_ids"]["bos"].get<int>());
  EXPECT_EQ(t.eos_id(), e["special_ids"]["eos"].get<int>());
  EXPECT_EQ(t.pad_id(), e["special_ids"]["pad"].get<int>());
  EXPECT_EQ(t.unk_id(), e["special_ids"]["unk"].get<int>());
}

TEST_P(HfTokenizerGolden, IdsEqualHf) {
  const Tokenizer& t = tok(GetParam());
  const json e = expected(GetParam());
  ASSERT_GE(e["cases"].size(), 250u);
  int mismatches = 0;
  for (const json& c : e["cases"]) {
    const std::string text = c["text"].get<std::string>();
    const auto want = c["ids"].get<std::vector<int32_t>>();
    const auto got = t.encode(text);
    if (got != want && ++mismatches <= 5)
      ADD_FAILURE() << "text " << show(text) << "\n want " << json(want).dump() << "\n got  " << json(got).dump();
    EXPECT_EQ(t.encode_with_special_tokens(text), c["ids_with_special"].get<std::vector<int32_t>>()) << show(text);
  }
  EXPECT_EQ(mismatches, 0);
}

TEST_P(HfTokenizerGolden, DecodeEqualsHf) {
  const Tokenizer& t = tok(GetParam());
  const json e = expected(GetParam());
  for (const json& c : e["cases"]) {
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(t.decode(ids), c["decoded"].get<std::string>()) << show(c["text"]);
    std::vector<int32_t> kept;  // decode(skip_special_tokens=True) drops the special ids before the decoder
    for (int32_t id : ids)
      if (!t.is_special(id)) kept.push_back(id);
    EXPECT_EQ(t.decode(kept), c["decoded_skip"].get<std::string>()) << show(c["text"]);
  }
}

INSTANTIATE_TEST_SUITE_P(Families, HfTokenizerGolden,
                         ::testing::Values("smollm2", "gemma3", "llama3_style", "qwen2_style", "smollm_style",
                                           "mistral_style", "metaspace_style", "mixed_style"));
