// The tokenizer built from GGUF metadata against transformers' GGUF tokenizer conversion: the real SmolLM2 (gpt2,
// pre smollm) and Gemma 3 (llama, gemma3) files against tests/data/hf_tokenizer/{smollm2,gemma3} (the tokenizer.json
// transformers made from these very files, and its ids), and small synthetic files of every supported form
// (tests/data/gguf_tokenizer, tools/reference/make_gguf_tokenizer_golden.py); errors for unsupported files.
#include <gtest/gtest.h>

#include "core/error.h"
#include "io/gguf.h"
#include "real_gguf.h"
#include "text/gguf_tokenizer.h"
#include "unit/hf_tokenizer_fixture.h"
#include "unit/tiny_gguf.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using tune::GgufFile;
using tune::Tokenizer;
using tune_test::read_json_file;

namespace {

const fs::path kSynthetic = fs::path(TUNE_TEST_DATA) / "gguf_tokenizer";

std::string show(const std::string& text) { return json(text).dump(); }

// Every expected id, decode and special id of `e` (the layout of make_hf_tokenizer_golden's expected.json).
void expect_equal_to_hf(const Tokenizer& t, const json& e) {
  EXPECT_STREQ(t.source_file(), "GGUF metadata");
  EXPECT_EQ(t.vocab_size(), e["vocab_size"].get<int>());
  EXPECT_EQ(t.bos_id(), e["special_ids"]["bos"].get<int>());
  EXPECT_EQ(t.eos_id(), e["special_ids"]["eos"].get<int>());
  EXPECT_EQ(t.pad_id(), e["special_ids"]["pad"].get<int>());
  EXPECT_EQ(t.unk_id(), e["special_ids"]["unk"].get<int>());
  ASSERT_GE(e["cases"].size(), 150u);
  int mismatches = 0;
  for (const json& c : e["cases"]) {
    const std::string text = c["text"].get<std::string>();
    const auto want = c["ids"].get<std::vector<int32_t>>();
    const auto got = t.encode(text);
    if (got != want && ++mismatches <= 5)
      ADD_FAILURE() << "text " << show(text) << "\n want " << json(want).dump() << "\n got  " << json(got).dump();
    EXPECT_EQ(t.encode_with_special_tokens(text), c["ids_with_special"].get<std::vector<int32_t>>()) << show(text);
    EXPECT_EQ(t.decode(want), c["decoded"].get<std::string>()) << show(text);
    std::vector<int32_t> kept;  // decode(skip_special_tokens=True) drops the special ids before the decoder
    for (int32_t id : want)
      if (!t.is_special(id)) kept.push_back(id);
    EXPECT_EQ(t.decode(kept), c["decoded_skip"].get<std::string>()) << show(text);
  }
  EXPECT_EQ(mismatches, 0);
}

// The tokenizer.json transformers saved for a real file, inflated.
json hf_saved_tokenizer_json(const std::string& name) {
  return read_json_file(tune_test::hf_tokenizer_folder(name) / "tokenizer.json");
}

// The built document equals transformers' one in every stage, vocabulary, merge (in order) and added token.
void expect_same_document(const json& built, const json& saved) {
  for (const char* key : {"normalizer", "pre_tokenizer", "decoder"}) EXPECT_EQ(built[key], saved[key]) << key;
  EXPECT_EQ(built["post_processor"]["single"], saved["post_processor"]["single"]);
  EXPECT_EQ(built["post_processor"]["special_tokens"], saved["post_processor"]["special_tokens"]);
  for (const char* key : {"type", "unk_token", "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk",
                          "byte_fallback", "ignore_merges"})
    EXPECT_EQ(built["model"][key], saved["model"][key]) << key;
  EXPECT_EQ(built["model"]["vocab"], saved["model"]["vocab"]);
  ASSERT_EQ(built["model"]["merges"].size(), saved["model"]["merges"].size());
  EXPECT_EQ(built["model"]["merges"], saved["model"]["merges"]);
  EXPECT_EQ(built["added_tokens"], saved["added_tokens"]);
}

}  // namespace

TEST(GgufTokenizerReal, SmolLM2EqualsTransformers) {
  TUNE_REAL_GGUF(path, tune::test::kSmolLM2Gguf);
  const GgufFile gguf = GgufFile::open(path);
  expect_same_document(tune::text_detail::gguf_tokenizer_json(gguf).doc, hf_saved_tokenizer_json("smollm2"));
  const Tokenizer t = tune::tokenizer_from_gguf(gguf);
  expect_equal_to_hf(t, read_json_file(tune_test::kHfTokenizers / "smollm2" / "expected.json"));
  EXPECT_EQ(t.piece_to_id("<|im_start|>"), 1);
  EXPECT_TRUE(t.is_special(2));  // <|im_end|>, a control token
}

TEST(GgufTokenizerReal, Gemma3EqualsTransformers) {
  TUNE_REAL_GGUF(path, tune::test::kGemma3Gguf);
  const GgufFile gguf = GgufFile::open(path);
  // The file has no merges: all 514906 are derived from the token order, as transformers does.
  expect_same_document(tune::text_detail::gguf_tokenizer_json(gguf).doc, hf_saved_tokenizer_json("gemma3"));
  const Tokenizer t = tune::tokenizer_from_gguf(gguf);
  expect_equal_to_hf(t, read_json_file(tune_test::kHfTokenizers / "gemma3" / "expected.json"));
  EXPECT_EQ(t.piece_to_id("<start_of_turn>"), 105);
  EXPECT_TRUE(t.is_special(105));  // a control token
  EXPECT_EQ(t.encode("\n\n\n"), std::vector<int32_t>{109});  // user-defined: one added token, kept by skip
  EXPECT_FALSE(t.is_special(109));
}

TEST(GgufTokenizerReal, ModelVocabularyCheck) {
  TUNE_REAL_GGUF(path, tune::test::kSmolLM2Gguf);
  const GgufFile gguf = GgufFile::open(path);
  EXPECT_EQ(tune::load_gguf_model_tokenizer(gguf, 49152).vocab_size(), 49152);
  try {
    tune::load_gguf_model_tokenizer(gguf, 1000);
    FAIL() << "a tokenizer larger than the model must be refused";
  } catch (const tune::Error& e) {
    EXPECT_NE(std::string(e.what()).find("has 49152 tokens but the model's vocab_size is 1000"), std::string::npos)
        << e.what();
  }
}

class GgufTokenizerSynthetic : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufTokenizerSynthetic, EqualsTransformers) {
  const GgufFile gguf = GgufFile::open(kSynthetic / (GetParam() + ".gguf"));
  expect_equal_to_hf(tune::tokenizer_from_gguf(gguf), read_json_file(kSynthetic / (GetParam() + ".json")));
}

INSTANTIATE_TEST_SUITE_P(Forms, GgufTokenizerSynthetic,
                         ::testing::Values("llama_spm", "llama_merges", "phi3_spm", "gemma_spm", "gpt2_llama_bpe",
                                           "gpt2_qwen2", "gpt2_smollm"));

namespace {

using tune::test::TinyGguf;

// The error tokenizer_from_gguf gives for g ("" when it builds).
std::string build_error(const TinyGguf& g) {
  try {
    tune::tokenizer_from_gguf(g.parse());
  } catch (const tune::Error& e) {
    return e.what();
  }
  return "";
}

TinyGguf tiny_gpt2() {
  TinyGguf g;
  g.str("general.architecture", "llama").str("tokenizer.ggml.model", "gpt2");
  g.strings("tokenizer.ggml.tokens", {"a", "b", "ab"}).strings("tokenizer.ggml.merges", {"a b"});
  return g;
}

void expect_error(const std::string& what, const std::string& part) {
  EXPECT_NE(what.find(part), std::string::npos) << "error: " << what;
}

}  // namespace

TEST(GgufTokenizerErrors, TinyFileLoads) {
  EXPECT_EQ(build_error(tiny_gpt2()), "");  // the base of the cases below is valid
}

TEST(GgufTokenizerErrors, UnsupportedModelIsNamed) {
  TinyGguf g;
  g.str("general.architecture", "t5").str("tokenizer.ggml.model", "t5").strings("tokenizer.ggml.tokens", {"a"});
  expect_error(build_error(g), "tiny.gguf: tokenizer.ggml.model \"t5\" is not supported (supported: llama");
}

TEST(GgufTokenizerErrors, NoTokenizer) {
  TinyGguf g;
  g.str("general.architecture", "llama");
  expect_error(build_error(g), "tiny.gguf: no tokenizer.ggml.model");
}

TEST(GgufTokenizerErrors, SpecialIdOutOfRange) {
  expect_error(build_error(tiny_gpt2().u32("tokenizer.ggml.eos_token_id", 3)),
               "tiny.gguf: tokenizer.ggml.eos_token_id 3 is not a token id (3 tokens)");
}

TEST(GgufTokenizerErrors, MalformedMerge) {
  TinyGguf g;
  g.str("general.architecture", "llama").str("tokenizer.ggml.model", "gpt2");
  g.strings("tokenizer.ggml.tokens", {"a", "b", "ab"}).strings("tokenizer.ggml.merges", {"ab"});
  expect_error(build_error(g), "tokenizer.ggml.merges entry \"ab\" is not two tokens separated by one space");
}

TEST(GgufTokenizerErrors, SentencePieceWithoutScoresOrMerges) {
  TinyGguf g;
  g.str("general.architecture", "llama").str("tokenizer.ggml.model", "llama").strings("tokenizer.ggml.tokens", {"a"});
  expect_error(build_error(g), "tokenizer.ggml.model llama without tokenizer.ggml.merges needs tokenizer.ggml.scores");
}
