// Tests for TextStream (streaming detokenization) on the HF-checked test tokenizer (tests/data/tokenizer): the pieces
// concatenate to the full decode, never split a UTF-8 character, and skip special tokens when asked; is_special.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "infer/text_stream.h"
#include "text/tokenizer.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

const Tokenizer& tok() {
  static const Tokenizer t = Tokenizer::load(fs::path(TUNE_TEST_DATA) / "tokenizer");
  return t;
}

// True when s is well-formed UTF-8 (complete sequences only).
bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t j = 1; j < n; ++j)
      if ((static_cast<unsigned char>(s[i + j]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

struct Streamed {
  std::vector<std::string> pieces;
  std::string text;
};

Streamed stream_all(const std::vector<int32_t>& ids, bool skip) {
  TextStream ts(tok(), skip);
  Streamed out;
  for (const int32_t id : ids) {
    out.pieces.push_back(ts.push(id));
    out.text += out.pieces.back();
  }
  out.pieces.push_back(ts.finish());
  out.text += out.pieces.back();
  return out;
}

TEST(TextStream, PiecesConcatenateToTheDecodeAndAreWholeCharacters) {
  const std::vector<std::string> texts = {
      "Hello world", "café naïve Straße über", "日本語のテキストと中文混合", "emoji 🙂👍🏽 and flags 🇫🇷 end",
      "line one\nline two\n\n  indented", "mixed 123abc456 ✓ ★ € ☃", "привет мир"};
  for (const std::string& text : texts) {
    const std::vector<int32_t> ids = tok().encode(text);
    const Streamed s = stream_all(ids, true);
    EXPECT_EQ(s.text, text);
    EXPECT_EQ(s.text, tok().decode(ids));
    for (const std::string& piece : s.pieces) EXPECT_TRUE(valid_utf8(piece)) << text << ": piece '" << piece << "'";
    EXPECT_TRUE(s.pieces.back().empty()) << text << ": whole text streamed before finish";
  }
}

TEST(TextStream, MultiByteCharacterWaitsForItsLastByte) {
  const std::vector<int32_t> ids = tok().encode("🙂");
  ASSERT_EQ(ids.size(), 4u);  // byte fallback: four byte pieces
  const Streamed s = stream_all(ids, true);
  EXPECT_EQ(s.pieces, (std::vector<std::string>{"", "", "", "🙂", ""}));
}

TEST(TextStream, SpecialTokensSkippedOrKept) {
  const std::vector<int32_t> ids = tok().encode("<start_of_turn>model\nHi there<end_of_turn>\n");
  const Streamed skipped = stream_all(ids, true);
  EXPECT_EQ(skipped.text, "model\nHi there\n");
  const Streamed kept = stream_all(ids, false);
  EXPECT_EQ(kept.text, "<start_of_turn>model\nHi there<end_of_turn>\n");
  std::vector<int32_t> with_eos = tok().encode("done");
  with_eos.push_back(tok().eos_id());
  EXPECT_EQ(stream_all(with_eos, true).text, "done");
}

TEST(TextStream, IdsPastTheTokenizerAddNoText) {
  // A model whose vocab_size pads the tokenizer's can generate ids the tokenizer has no token for.
  const int V = tok().vocab_size();
  std::vector<int32_t> ids = tok().encode("Hello");
  ids.insert(ids.begin() + 1, V);
  ids.push_back(V + 40);
  for (const bool skip : {true, false}) EXPECT_EQ(stream_all(ids, skip).text, "Hello");
}

TEST(TextStream, ArbitraryIdSequencesIncludingBrokenBytes) {
  // Every id sequence streams to its full decode, even byte pieces that never form a character.
  const int V = tok().vocab_size();
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::vector<int32_t> ids;
    uint32_t x = seed;
    for (int i = 0; i < 40; ++i) {
      x = x * 1664525u + 1013904223u;
      ids.push_back(static_cast<int32_t>((x >> 8) % V));
    }
    std::vector<int32_t> kept;
    for (const int32_t id : ids)
      if (!tok().is_special(id)) kept.push_back(id);
    EXPECT_EQ(stream_all(ids, true).text, tok().decode(kept)) << "seed " << seed;
    EXPECT_EQ(stream_all(ids, false).text, tok().decode(ids)) << "seed " << seed;
  }
}

TEST(TokenizerSpecial, NamedAdditionalAndDeclaredSpecials) {
  for (int32_t id = 0; id <= 6; ++id) EXPECT_TRUE(tok().is_special(id)) << id;  // pad eos bos unk mask turn markers
  EXPECT_FALSE(tok().is_special(7));                                           // <0x00>
  EXPECT_FALSE(tok().is_special(tok().encode("Hello")[0]));
}

}  // namespace
}  // namespace tune
