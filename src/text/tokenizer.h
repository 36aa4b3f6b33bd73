// Tokenizer: a SentencePiece tokenizer.model (libsentencepiece) with the special tokens the model folder declares,
// encoding the way HF's slow tokenizer does with add_special_tokens=False.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace tune {

class Tokenizer {
 public:
  // Reads <dir>/tokenizer.model and, when present, tokenizer_config.json (added_tokens_decoder, bos/eos/pad/unk tokens,
  // additional_special_tokens) and special_tokens_map.json, with HF's precedence: special_tokens_map.json is read only
  // when tokenizer_config.json has no added_tokens_decoder, and then overrides its token strings. A token string may
  // be a plain string or an {"content": ...} object. Without either file the SentencePiece model's own
  // bos/eos/pad/unk pieces are used. Special tokens and their ids come from these files, never hard-coded.
  static Tokenizer load(const std::filesystem::path& dir);
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Text -> ids without adding bos/eos. Added/special token strings in the text (e.g. "<start_of_turn>") are split
  // out first (earliest match, longest first) and become their single ids, as HF does; the pieces between are
  // SentencePiece-encoded as they are (Gemma's model has no dummy prefix, so nothing is prepended). An added token
  // declared with lstrip/rstrip removes the ASCII whitespace before/after it.
  std::vector<int32_t> encode(std::string_view text) const;
  // Ids -> text like HF's slow GemmaTokenizer._decode without skipping specials: runs of ordinary ids are
  // SentencePiece-decoded (byte pieces become bytes), added tokens become their content. Out-of-range id -> Error.
  std::string decode(std::span<const int32_t> ids) const;
  // True for the tokens HF's decode(skip_special_tokens=True) drops: bos/eos/pad/unk, additional_special_tokens and
  // added tokens declared "special": true.
  bool is_special(int32_t id) const { return special_ids_.contains(id); }
  std::string id_to_piece(int32_t id) const;
  std::optional<int32_t> piece_to_id(std::string_view piece) const;  // nullopt when unknown

  int32_t bos_id() const { return bos_id_; }  // -1 when the folder declares none
  int32_t eos_id() const { return eos_id_; }
  int32_t pad_id() const { return pad_id_; }
  int32_t unk_id() const { return unk_id_; }
  // Pieces in tokenizer.model plus added tokens with ids past them (HF's len(tokenizer)).
  int vocab_size() const { return vocab_size_; }

 private:
  struct AddedToken {
    std::string content;
    int32_t id;
    bool lstrip, rstrip;  // strip whitespace left / right of the token when it is split out of a text
  };
  Tokenizer();
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::vector<AddedToken> special_;                        // added/special token strings, longest first
  std::string special_first_bytes_;                        // the distinct first bytes of special_, for scanning
  std::unordered_map<int32_t, std::string> added_by_id_;  // id -> content, for decode and id_to_piece
  std::unordered_set<int32_t> special_ids_;               // see is_special
  int32_t bos_id_ = -1, eos_id_ = -1, pad_id_ = -1, unk_id_ = -1;
  int vocab_size_ = 0;
};

}  // namespace tune
