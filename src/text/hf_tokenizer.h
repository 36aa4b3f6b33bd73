// The HF tokenizer.json backend (HF's "fast" tokenizer): added tokens split out first, then normalizer,
// pre-tokenizer and BPE model on the text between; decoders for the way back; the post-processor for
// add_special_tokens=True.
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text/hf_pipeline.h"
#include "text/string_map.h"
#include "text/subword_model.h"
#include "text/tokenizer_backend.h"
#include "text/tokenizer_files.h"

namespace tune::text_detail {

class HfTokenizer final : public TokenizerBackend {
 public:
  // Reads json_path (a tokenizer.json) and resolves the declared bos/eos/pad/unk and additional special tokens
  // against its added tokens and vocabulary (a token no file names is absent: -1).
  static std::pair<std::unique_ptr<HfTokenizer>, SpecialTokens> load(const std::filesystem::path& json_path,
                                                                      const DeclaredTokens& declared);
  // The same from a tokenizer.json document already in memory; `file` names its source in errors.
  static std::pair<std::unique_ptr<HfTokenizer>, SpecialTokens> from_json(const nlohmann::json& doc,
                                                                           const std::string& file,
                                                                           const DeclaredTokens& declared);

  std::vector<int32_t> encode(std::string_view text) const override;
  // Token strings (added tokens as their content) through the decoder chain, concatenated; then transformers'
  // clean_up_tokenization when tokenizer_config.json asks for it.
  std::string decode(std::span<const int32_t> ids) const override;
  std::optional<std::string> id_to_piece(int32_t id) const override;
  std::optional<int32_t> piece_to_id(std::string_view piece) const override;
  int size() const override { return size_; }
  // The post-processor's single-sequence template (TemplateProcessing), e.g. [bos] + ids.
  std::vector<int32_t> add_special_tokens(std::vector<int32_t> ids) const override;

 private:
  struct AddedToken {
    std::string content;
    int32_t id;
    bool single_word, lstrip, rstrip, normalized, special;
  };
  // One group of added tokens matched the way HF's AddedVocabulary does (leftmost, then longest).
  struct Matcher {
    std::unordered_map<unsigned char, std::vector<const AddedToken*>> by_first_byte;  // longest first
  };
  struct Segment {
    std::string text;  // when id < 0
    int32_t id;        // an added token's id, or -1 for text
    bool at_start;     // text that begins the original input
  };
  void split_added(std::string_view text, bool at_start, const Matcher& matcher, std::vector<Segment>& out) const;
  // One post-processor step: ids -> ids.
  using PostStep = std::function<std::vector<int32_t>(std::vector<int32_t>)>;
  PostStep parse_post_processor(const nlohmann::json& j, const std::string& file);

  std::unique_ptr<SubwordModel> model_;
  std::vector<AddedToken> added_;
  std::unordered_map<int32_t, size_t> added_by_id_;  // id -> index in added_
  StringMap<int32_t> added_by_content_;
  Matcher raw_matcher_, normalized_matcher_;  // tokens with normalized false / true
  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  Decoder decoder_;
  PostStep post_processor_;
  bool clean_up_spaces_ = false;
  int size_ = 0;
};

}  // namespace tune::text_detail
