// Tokenizer against HF's Gemma tokenizer (tests/data/tokenizer, tools/reference/make_tokenizer_golden.py): ids,
// decode, special ids from the folder's files, and load errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "text/tokenizer.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using tune::Tokenizer;

namespace {

const fs::path kGolden = fs::path(TUNE_TEST_DATA) / "tokenizer";

json read_json(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return json::parse(s.str());
}

const json& expected() {
  static const json e = read_json(kGolden / "expected.json");
  return e;
}

const Tokenizer& golden_tokenizer() {
  static const Tokenizer tok = Tokenizer::load(kGolden);
  return tok;
}

// A scratch model folder holding a copy of the golden tokenizer.model and whatever JSON files a test writes.
class TokenizerFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tune_test_tokenizer_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy_file(kGolden / "tokenizer.model", dir_ / "tokenizer.model");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  // The error message of loading dir_, or "" when it loads.
  std::string load_error() {
    try {
      Tokenizer::load(dir_);
    } catch (const tune::Error& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
};

std::vector<int32_t> ids_of(const json& list) { return list.get<std::vector<int32_t>>(); }

}  // namespace

TEST(Tokenizer, SpecialIdsComeFromTheFolder) {
  const Tokenizer& tok = golden_tokenizer();
  const json& s = expected()["special_ids"];
  EXPECT_EQ(tok.bos_id(), s["bos"].get<int>());
  EXPECT_EQ(tok.eos_id(), s["eos"].get<int>());
  EXPECT_EQ(tok.pad_id(), s["pad"].get<int>());
  EXPECT_EQ(tok.unk_id(), s["unk"].get<int>());
  EXPECT_EQ(tok.piece_to_id("<start_of_turn>"), s["<start_of_turn>"].get<int>());
  EXPECT_EQ(tok.piece_to_id("<end_of_turn>"), s["<end_of_turn>"].get<int>());
  EXPECT_EQ(tok.piece_to_id("<mask>"), s["mask"].get<int>());
  EXPECT_EQ(tok.vocab_size(), expected()["vocab_size"].get<int>());
  EXPECT_EQ(tok.id_to_piece(tok.bos_id()), "<bos>");
  EXPECT_EQ(tok.id_to_piece(7), "<0x00>");  // byte pieces follow the control/user-defined ones
  EXPECT_EQ(tok.piece_to_id("no such piece"), std::nullopt);
}

TEST(Tokenizer, EncodeMatchesHfForEveryGoldenString) {
  const Tokenizer& tok = golden_tokenizer();
  const json& cases = expected()["encode"];
  ASSERT_GE(cases.size(), 30u);
  for (const json& c : cases) {
    const std::string text = c["text"].get<std::string>();
    EXPECT_EQ(tok.encode(text), ids_of(c["ids"])) << "text: " << text.substr(0, 80);
  }
}

TEST(Tokenizer, DecodeMatchesHfAndRoundTrips) {
  const Tokenizer& tok = golden_tokenizer();
  for (const json& c : expected()["encode"]) {
    const std::string text = c["text"].get<std::string>();
    const std::vector<int32_t> ids = ids_of(c["ids"]);
    EXPECT_EQ(tok.decode(ids), c["decoded"].get<std::string>()) << "text: " << text.substr(0, 80);
    // Lossless except for a literal "\u2581", which SentencePiece reads as its own whitespace marker.
    if (text.find("\xe2\x96\x81") == std::string::npos) {
      EXPECT_EQ(tok.decode(tok.encode(text)), text) << "text: " << text.substr(0, 80);
    } else {
      EXPECT_NE(tok.decode(tok.encode(text)), text);
    }
  }
}

TEST(Tokenizer, GemmaPropertiesHold) {
  const Tokenizer& tok = golden_tokenizer();
  // No dummy prefix: a word at the start is not given a leading "▁".
  EXPECT_NE(tok.id_to_piece(tok.encode("the")[0]).rfind("\xe2\x96\x81", 0), 0u);
  // split_digits: one id per digit.
  EXPECT_EQ(tok.encode("90210").size(), 5u);
  // byte fallback: an emoji the model never saw becomes its 4 UTF-8 bytes <0xF0><0x9F><0x99><0x82>.
  const auto emoji = tok.encode("\xf0\x9f\x99\x82");
  ASSERT_EQ(emoji.size(), 4u);
  EXPECT_EQ(tok.id_to_piece(emoji[0]), "<0xF0>");
  // Special strings are split out wherever they are, also back to back.
  const int32_t sot = *tok.piece_to_id("<start_of_turn>"), eot = *tok.piece_to_id("<end_of_turn>");
  EXPECT_EQ(tok.encode("<start_of_turn><end_of_turn><bos>"), (std::vector<int32_t>{sot, eot, tok.bos_id()}));
  EXPECT_TRUE(tok.encode("").empty());
}

TEST(Tokenizer, DecodeRejectsIdsOutsideTheVocabulary) {
  const Tokenizer& tok = golden_tokenizer();
  const std::vector<int32_t> bad = {5, tok.vocab_size()};
  EXPECT_THROW(tok.decode(bad), tune::Error);
  const std::vector<int32_t> negative = {-1};
  EXPECT_THROW(tok.decode(negative), tune::Error);
}

TEST_F(TokenizerFolder, MissingModelFileNamesThePath) {
  fs::remove(dir_ / "tokenizer.model");
  const std::string err = load_error();
  EXPECT_NE(err.find((dir_ / "tokenizer.model").string()), std::string::npos) << err;
  EXPECT_NE(err.find("not found"), std::string::npos) << err;
}

TEST_F(TokenizerFolder, CorruptModelFileIsAnError) {
  write("tokenizer.model", "this is not a protobuf");
  const std::string err = load_error();
  EXPECT_NE(err.find("not a SentencePiece model"), std::string::npos) << err;
}

TEST_F(TokenizerFolder, MalformedConfigNamesTheFile) {
  write("tokenizer_config.json", "{\"bos_token\": \"<bos>\",");
  const std::string err = load_error();
  EXPECT_NE(err.find("tokenizer_config.json"), std::string::npos) << err;
  EXPECT_NE(err.find("invalid JSON"), std::string::npos) << err;
}

TEST_F(TokenizerFolder, ConfigOfTheWrongShapeIsAnError) {
  write("tokenizer_config.json", R"({"added_tokens_decoder": {"x": {"content": "<bos>"}}})");
  EXPECT_NE(load_error().find("non-negative token id"), std::string::npos);
  write("tokenizer_config.json", R"({"eos_token": 7})");
  EXPECT_NE(load_error().find("'eos_token' must be a string"), std::string::npos);
  write("tokenizer_config.json", R"({"bos_token": "<not_in_vocab>"})");
  const std::string err = load_error();
  EXPECT_NE(err.find("<not_in_vocab>"), std::string::npos) << err;
  EXPECT_NE(err.find("bos_token"), std::string::npos) << err;
}

TEST_F(TokenizerFolder, WithoutJsonFilesTheModelsOwnSpecialsAreUsed) {
  const Tokenizer tok = Tokenizer::load(dir_);
  EXPECT_EQ(tok.bos_id(), 2);
  EXPECT_EQ(tok.eos_id(), 1);
  EXPECT_EQ(tok.pad_id(), 0);
  EXPECT_EQ(tok.unk_id(), 3);
  // The named specials are still split out of text; user-defined pieces are matched by SentencePiece itself.
  const std::vector<int32_t> ids = tok.encode("<bos><start_of_turn>");
  EXPECT_EQ(ids, (std::vector<int32_t>{2, 5}));
  // Ordinary text encodes as with the full folder.
  EXPECT_EQ(tok.encode("Hello world"), golden_tokenizer().encode("Hello world"));
}

TEST_F(TokenizerFolder, SpecialTokensMapObjectsOverrideAConfigWithoutAddedTokens) {
  write("tokenizer_config.json", R"({"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": null})");
  write("special_tokens_map.json", R"({"eos_token": {"content": "<end_of_turn>", "lstrip": false}})");
  const Tokenizer tok = Tokenizer::load(dir_);
  EXPECT_EQ(tok.bos_id(), 2);
  EXPECT_EQ(tok.eos_id(), 6);   // from special_tokens_map.json, object form
  EXPECT_EQ(tok.pad_id(), -1);  // null in the config: no pad token
}

TEST_F(TokenizerFolder, SpecialTokensMapIsIgnoredWhenTheConfigHasAddedTokens) {
  write("tokenizer_config.json",
        R"({"added_tokens_decoder": {"1": {"content": "<eos>", "special": true}}, "eos_token": {"content": "<eos>"}})");
  write("special_tokens_map.json", R"({"eos_token": "<end_of_turn>"})");
  EXPECT_EQ(Tokenizer::load(dir_).eos_id(), 1);
}

TEST_F(TokenizerFolder, AddedTokensPastTheModelAndStripFlags) {
  write("tokenizer_config.json", R"({"added_tokens_decoder": {
      "1200": {"content": "<extra>", "special": false},
      "5": {"content": "<start_of_turn>", "rstrip": true},
      "6": {"content": "<end_of_turn>", "lstrip": true}}})");
  const Tokenizer tok = Tokenizer::load(dir_);
  EXPECT_EQ(tok.vocab_size(), 1201);
  const std::vector<int32_t> a = tok.encode("a"), b = tok.encode("b");
  std::vector<int32_t> want = a;
  want.push_back(1200);
  want.push_back(5);
  want.insert(want.end(), b.begin(), b.end());
  want.push_back(6);
  EXPECT_EQ(tok.encode("a<extra><start_of_turn> \n b \t<end_of_turn>"), want);
  EXPECT_EQ(tok.decode(want), "a<extra><start_of_turn>b<end_of_turn>");
  EXPECT_EQ(tok.id_to_piece(1200), "<extra>");
}

// HF's slow tokenizer with add_special_tokens=True: [bos] + ids (+ [eos]) per add_bos_token / add_eos_token.
TEST_F(TokenizerFolder, SpecialTokensFollowAddBosAndAddEos) {
  const Tokenizer& golden = golden_tokenizer();  // its tokenizer_config.json says add_bos_token true
  std::vector<int32_t> want = {golden.bos_id()};
  for (int32_t id : golden.encode("Hello world")) want.push_back(id);
  EXPECT_EQ(golden.encode_with_special_tokens("Hello world"), want);
  EXPECT_STREQ(golden.source_file(), "tokenizer.model");

  write("tokenizer_config.json", R"({"add_bos_token": false, "add_eos_token": true})");
  const Tokenizer tok = Tokenizer::load(dir_);
  want = golden.encode("Hello world");
  want.push_back(tok.eos_id());
  EXPECT_EQ(tok.encode_with_special_tokens("Hello world"), want);
  write("tokenizer_config.json", R"({"add_bos_token": "yes"})");
  EXPECT_NE(load_error().find("'add_bos_token' must be true or false"), std::string::npos);
}
