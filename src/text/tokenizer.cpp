// Tokenizer: picks tokenizer.json or tokenizer.model from the model folder and keeps the special-token facts.
#include "text/tokenizer.h"

#include "core/error.h"
#include "text/hf_tokenizer.h"
#include "text/sp_tokenizer.h"
#include "text/tokenizer_files.h"

namespace tune {

namespace fs = std::filesystem;
using text_detail::SpecialTokens;

Tokenizer::Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::load(const fs::path& dir, bool use_fast) {
  const fs::path json_path = dir / "tokenizer.json", model_path = dir / "tokenizer.model";
  const bool has_model = fs::is_regular_file(model_path);
  const bool has_json = fs::is_regular_file(json_path) && (use_fast || !has_model);
  TUNE_CHECK(has_json || has_model, json_path.string(), " and ", model_path.string(),
             " not found; the model folder needs the tokenizer files from its Hugging Face repo (tokenizer.json, or "
             "the SentencePiece tokenizer.model, with tokenizer_config.json)");
  const text_detail::DeclaredTokens declared = text_detail::read_declared_tokens(dir);
  std::pair<std::unique_ptr<text_detail::TokenizerBackend>, SpecialTokens> loaded;
  if (has_json)
    loaded = text_detail::HfTokenizer::load(json_path, declared);
  else
    loaded = text_detail::SpTokenizer::load(model_path, declared);
  return from_backend(std::move(loaded.first), loaded.second, has_json ? "tokenizer.json" : "tokenizer.model");
}

Tokenizer Tokenizer::from_backend(std::unique_ptr<text_detail::TokenizerBackend> backend, const SpecialTokens& specials,
                                  const char* source) {
  Tokenizer tok;
  tok.backend_ = std::move(backend);
  tok.source_ = source;
  tok.bos_id_ = specials.bos;
  tok.eos_id_ = specials.eos;
  tok.pad_id_ = specials.pad;
  tok.unk_id_ = specials.unk;
  tok.special_ids_ = specials.skip_ids;
  tok.vocab_size_ = tok.backend_->size();
  return tok;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const { return backend_->encode(text); }

std::vector<int32_t> Tokenizer::encode_with_special_tokens(std::string_view text) const {
  return backend_->add_special_tokens(backend_->encode(text));
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  for (int32_t id : ids)
    TUNE_CHECK(id >= 0 && id < vocab_size_, "tokenizer: cannot decode token id ", id,
               ": no such token (vocabulary size ", vocab_size_, ")");
  return backend_->decode(ids);
}

std::string Tokenizer::id_to_piece(int32_t id) const {
  auto piece = backend_->id_to_piece(id);
  TUNE_CHECK(piece, "tokenizer: token id ", id, " is no token (vocabulary size ", vocab_size_, ")");
  return *piece;
}

std::optional<int32_t> Tokenizer::piece_to_id(std::string_view piece) const { return backend_->piece_to_id(piece); }

Tokenizer load_model_tokenizer(const fs::path& dir, int model_vocab_size, bool use_fast) {
  Tokenizer tok = Tokenizer::load(dir, use_fast);
  TUNE_CHECK(tok.vocab_size() <= model_vocab_size, "the tokenizer in ", dir.string(), " (", tok.source_file(),
             ") has ", tok.vocab_size(), " tokens but the model's vocab_size is ", model_vocab_size,
             "; the tokenizer does not belong to this model");
  return tok;
}

}  // namespace tune
