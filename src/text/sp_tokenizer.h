// The SentencePiece tokenizer.model backend: HF's slow tokenizer (transformers 4.38 GemmaTokenizer / LlamaTokenizer
// with legacy=True) around libsentencepiece, with the added tokens the folder's JSON files declare.
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text/tokenizer_backend.h"
#include "text/tokenizer_files.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace tune::text_detail {

class SpTokenizer final : public TokenizerBackend {
 public:
  // Reads model_path (a tokenizer.model) and resolves the declared tokens against it: bos/eos/pad/unk from the files
  // or, where no file names them, the model's own pieces. A special token not in added_tokens_decoder is split out
  // of text as well and takes its id from the model.
  static std::pair<std::unique_ptr<SpTokenizer>, SpecialTokens> load(const std::filesystem::path& model_path,
                                                                      const DeclaredTokens& declared);
  ~SpTokenizer() override;

  // Added/special token strings in the text are split out first (earliest match, longest first) and become their
  // single ids, as HF's slow tokenizer does; the pieces between are SentencePiece-encoded as they are (no dummy
  // prefix is added by this code). lstrip/rstrip remove the ASCII whitespace before/after a token.
  std::vector<int32_t> encode(std::string_view text) const override;
  // Runs of ordinary ids are SentencePiece-decoded (byte pieces become bytes), added tokens become their content.
  std::string decode(std::span<const int32_t> ids) const override;
  std::optional<std::string> id_to_piece(int32_t id) const override;
  std::optional<int32_t> piece_to_id(std::string_view piece) const override;
  int size() const override { return size_; }
  // The slow tokenizer's build_inputs_with_special_tokens: [bos] + ids + [eos] per add_bos_token / add_eos_token.
  std::vector<int32_t> add_special_tokens(std::vector<int32_t> ids) const override;

 private:
  struct AddedToken {
    std::string content;
    int32_t id;
    bool lstrip, rstrip;  // strip whitespace left / right of the token when it is split out of a text
  };
  SpTokenizer();
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::vector<AddedToken> split_tokens_;                   // added/special token strings, longest first
  std::string split_first_bytes_;                          // the distinct first bytes of split_tokens_, for scanning
  std::unordered_map<int32_t, std::string> added_by_id_;  // id -> content, for decode and id_to_piece
  int size_ = 0;
  int32_t bos_ = -1, eos_ = -1;
  bool add_bos_ = true, add_eos_ = false;  // tokenizer_config.json add_bos_token / add_eos_token
};

}  // namespace tune::text_detail
