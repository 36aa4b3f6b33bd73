// What a tokenizer implementation (SentencePiece tokenizer.model, HF tokenizer.json) gives the Tokenizer facade
// (private to src/text).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace tune::text_detail {

// The special tokens of a loaded folder, resolved to ids.
struct SpecialTokens {
  int32_t bos = -1, eos = -1, pad = -1, unk = -1;  // -1: the folder declares none
  std::unordered_set<int32_t> skip_ids;             // the ids decode(skip_special_tokens=True) drops
};

class TokenizerBackend {
 public:
  virtual ~TokenizerBackend() = default;
  // Text -> ids as HF's tokenizer.encode(text, add_special_tokens=False).
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // Ids (each < size(), checked by the caller) -> text, HF's decode without skipping special tokens.
  virtual std::string decode(std::span<const int32_t> ids) const = 0;
  // The token string of an id (nullopt for an id with none); piece -> id (nullopt when unknown).
  virtual std::optional<std::string> id_to_piece(int32_t id) const = 0;
  virtual std::optional<int32_t> piece_to_id(std::string_view piece) const = 0;
  // HF's len(tokenizer): the model's vocabulary plus added tokens past it.
  virtual int size() const = 0;
  // encode(text) ids -> the ids encode(text, add_special_tokens=True) gives (bos/eos by the tokenizer's rules).
  virtual std::vector<int32_t> add_special_tokens(std::vector<int32_t> ids) const = 0;
};

}  // namespace tune::text_detail
