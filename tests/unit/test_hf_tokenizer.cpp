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

namespace {

// A scratch model folder for the load-choice and error tests.
class HfTokenizerFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tune_test_hf_folder_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    base_ = read_json_file(kHfTokenizers / "metaspace_style" / "tokenizer.json");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  void write_json(const json& doc) { write("tokenizer.json", doc.dump()); }
  std::string load_error() {
    try {
      Tokenizer::load(dir_);
    } catch (const tune::Error& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
  json base_;  // a valid tokenizer.json to break
};

}  // namespace

TEST_F(HfTokenizerFolder, TokenizerJsonIsPreferredUnlessUseFastIsOff) {
  write_json(base_);
  fs::copy_file(fs::path(TUNE_TEST_DATA) / "tokenizer" / "tokenizer.model", dir_ / "tokenizer.model");
  EXPECT_STREQ(Tokenizer::load(dir_).source_file(), "tokenizer.json");
  EXPECT_EQ(Tokenizer::load(dir_).vocab_size(), 1003);
  EXPECT_STREQ(Tokenizer::load(dir_, false).source_file(), "tokenizer.model");
  EXPECT_EQ(Tokenizer::load(dir_, false).vocab_size(), 1200);
  fs::remove(dir_ / "tokenizer.model");  // without tokenizer.model the fast one is used either way, as in HF
  EXPECT_STREQ(Tokenizer::load(dir_, false).source_file(), "tokenizer.json");
}

TEST_F(HfTokenizerFolder, WithoutTokenizerConfigNoTokenIsNamed) {
  write_json(base_);
  const Tokenizer t = Tokenizer::load(dir_);
  EXPECT_EQ(t.bos_id(), -1);
  EXPECT_EQ(t.eos_id(), -1);
  EXPECT_TRUE(t.is_special(t.piece_to_id("[TOOL_CALLS]").value()));  // the file's own "special" flag
  EXPECT_FALSE(t.is_special(t.piece_to_id("river").value()));
}

TEST_F(HfTokenizerFolder, ModelVocabularyCheck) {
  write_json(base_);
  EXPECT_EQ(tune::load_model_tokenizer(dir_, 1003).vocab_size(), 1003);
  try {
    tune::load_model_tokenizer(dir_, 1000);
    FAIL() << "a tokenizer larger than the model must be refused";
  } catch (const tune::Error& e) {
    EXPECT_NE(std::string(e.what()).find("has 1003 tokens but the model's vocab_size is 1000"), std::string::npos)
        << e.what();
  }
}

TEST_F(HfTokenizerFolder, MergesInBothForms) {
  // The same merges as "a b" strings and as [a, b] lists give the same ids (the qwen2 fixture is in string form).
  json strings = base_;
  for (json& m : strings["model"]["merges"]) m = m[0].get<std::string>() + " " + m[1].get<std::string>();
  write_json(base_);
  const auto list_ids = Tokenizer::load(dir_).encode("the blue river ran over the mountain");
  write_json(strings);
  EXPECT_EQ(Tokenizer::load(dir_).encode("the blue river ran over the mountain"), list_ids);
  EXPECT_GT(list_ids.size(), 3u);
  EXPECT_TRUE(read_json_file(kHfTokenizers / "qwen2_style" / "tokenizer.json")["model"]["merges"][0].is_string());
}

TEST_F(HfTokenizerFolder, LoadErrorsNameTheProblem) {
  auto expect_error = [&](const json& doc, const std::string& part) {
    write_json(doc);
    const std::string err = load_error();
    EXPECT_NE(err.find(part), std::string::npos) << "want \"" << part << "\" in: " << err;
    EXPECT_NE(err.find("tokenizer.json"), std::string::npos) << err;
  };
  write("tokenizer.json", "{\"model\": ");
  EXPECT_NE(load_error().find("invalid JSON"), std::string::npos);

  json d = base_;
  d["model"] = {{"type", "Unigram"}, {"vocab", json::array()}};
  expect_error(d, "model type \"Unigram\" is not supported");
  d = base_;
  d["model"]["merges"].push_back({"no_such_token", "x"});
  expect_error(d, "not in model.vocab");
  d = base_;
  d["model"]["merges"][0] = "onlyone";
  expect_error(d, "two tokens separated by one space");
  d = base_;
  d["normalizer"] = {{"type", "BertNormalizer"}};
  expect_error(d, "normalizer: type \"BertNormalizer\" is not supported");
  d = base_;
  d["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  expect_error(d, "does not compile");
  d = base_;
  d["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", "x"}}}, {"behavior", "Sideways"}};
  expect_error(d, "unknown split behavior \"Sideways\"");
  d = base_;
  d["decoder"] = {{"type", "WordPiece"}};
  expect_error(d, "decoder: type \"WordPiece\" is not supported");
  d = base_;
  d["post_processor"] = {{"type", "RobertaProcessing"}};
  expect_error(d, "post_processor: type \"RobertaProcessing\" is not supported");
  d = base_;
  d["model"]["dropout"] = 0.1;
  expect_error(d, "dropout is not supported");
  d = base_;
  d["added_tokens"].push_back({{"id", -4}, {"content", "<x>"}});
  expect_error(d, "added_tokens[");

  write_json(base_);
  write("tokenizer_config.json", R"({"bos_token": "<not_a_token>"})");
  const std::string err = load_error();
  EXPECT_NE(err.find("tokenizer_config.json"), std::string::npos) << err;
  EXPECT_NE(err.find("<not_a_token>"), std::string::npos) << err;
}
