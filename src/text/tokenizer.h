// Tokenizer: the model folder's tokenizer (HF tokenizer.json, or a SentencePiece tokenizer.model) with the special
// tokens the folder declares, encoding the way HF's tokenizer does with add_special_tokens=False.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace tune::text_detail {
class TokenizerBackend;
struct SpecialTokens;
}  // namespace tune::text_detail

namespace tune {

class GgufFile;

class Tokenizer {
 public:
  // Picks the implementation as transformers' AutoTokenizer does by default (the fast tokenizer first):
  //   <dir>/tokenizer.json present -> HF `tokenizers` semantics (BPE, byte-level or with byte fallback; added tokens,
  //                                   normalizer, pre-tokenizer, post-processor and decoder from the file);
  //   else <dir>/tokenizer.model   -> SentencePiece with HF's slow-tokenizer semantics (as the seed run used).
  // Special tokens: tokenizer_config.json (added_tokens_decoder, bos/eos/pad/unk tokens, additional_special_tokens)
  // and special_tokens_map.json, with HF's precedence: special_tokens_map.json is read only when tokenizer_config.json
  // has no added_tokens_decoder, and then overrides its token strings. A token string may be a plain string or an
  // {"content": ...} object. For tokenizer.model without either file the SentencePiece model's own bos/eos/pad/unk
  // pieces are used; for tokenizer.json a token no file names is absent. Special tokens and their ids come from these
  // files, never hard-coded.
  // use_fast false (LF's use_fast_tokenizer: false) prefers tokenizer.model when the folder has both.
  static Tokenizer load(const std::filesystem::path& dir, bool use_fast = true);
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Text -> ids without adding bos/eos (HF encode(text, add_special_tokens=False)). Added/special token strings in the
  // text (e.g. "<start_of_turn>") are split out first and become their single ids, as HF does; the text between goes
  // through the tokenizer (tokenizer.model: SentencePiece as it is, no dummy prefix prepended; lstrip/rstrip remove
  // ASCII whitespace. tokenizer.json: the file's normalizer, pre-tokenizer and BPE; lstrip/rstrip/single_word/
  // normalized as HF `tokenizers`).
  std::vector<int32_t> encode(std::string_view text) const;
  // HF encode(text) with its default add_special_tokens=True: tokenizer.json's post-processor (e.g. TemplateProcessing
  // prepending bos), or for tokenizer.model bos/eos per tokenizer_config.json's add_bos_token (default true) and
  // add_eos_token (default false).
  std::vector<int32_t> encode_with_special_tokens(std::string_view text) const;
  // Ids -> text like HF's decode without skipping specials: tokenizer.model as the slow tokenizer (runs of ordinary
  // ids SentencePiece-decoded, added tokens as their content); tokenizer.json through its decoder chain (then
  // clean_up_tokenization when tokenizer_config.json sets clean_up_tokenization_spaces). Out-of-range id -> Error.
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
  // The model's vocabulary plus added tokens with ids past it (HF's len(tokenizer)).
  int vocab_size() const { return vocab_size_; }
  // Where the tokenizer was read from: "tokenizer.json", "tokenizer.model" or "GGUF metadata" (tokenizer_from_gguf).
  const char* source_file() const { return source_; }

 private:
  Tokenizer();
  friend Tokenizer tokenizer_from_gguf(const GgufFile& gguf);
  // A backend and its resolved special tokens -> the facade.
  static Tokenizer from_backend(std::unique_ptr<text_detail::TokenizerBackend> backend,
                                const text_detail::SpecialTokens& specials, const char* source);
  std::unique_ptr<text_detail::TokenizerBackend> backend_;
  std::unordered_set<int32_t> special_ids_;  // see is_special
  int32_t bos_id_ = -1, eos_id_ = -1, pad_id_ = -1, unk_id_ = -1;
  int vocab_size_ = 0;
  const char* source_ = "";
};

// Tokenizer::load plus the check train, chat, serve and inspect all run before pairing it with a model: every id
// fits the model's embedding (vocab_size() <= model_vocab_size), else Error naming both sizes.
Tokenizer load_model_tokenizer(const std::filesystem::path& dir, int model_vocab_size, bool use_fast = true);

}  // namespace tune
