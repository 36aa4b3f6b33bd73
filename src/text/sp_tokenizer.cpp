// SentencePiece backend: tokenizer.model + declared added tokens -> encode/decode as HF's slow tokenizer.
#include "text/sp_tokenizer.h"

#include <sentencepiece_processor.h>

#include <algorithm>
#include <map>

#include "core/error.h"

namespace tune::text_detail {

namespace fs = std::filesystem;

namespace {

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

}  // namespace

SpTokenizer::SpTokenizer() = default;
SpTokenizer::~SpTokenizer() = default;

std::pair<std::unique_ptr<SpTokenizer>, SpecialTokens> SpTokenizer::load(const fs::path& model_path,
                                                                          const DeclaredTokens& declared) {
  std::unique_ptr<SpTokenizer> tok(new SpTokenizer());
  tok->sp_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = tok->sp_->Load(model_path.string());
  TUNE_CHECK(status.ok(), model_path.string(), ": not a SentencePiece model (", status.ToString(),
             "); replace it with the tokenizer.model from the model's Hugging Face repo");
  const int sp_size = tok->sp_->GetPieceSize();
  SpecialTokens specials;

  int32_t max_id = sp_size - 1;
  std::map<std::string, AddedToken> by_content;
  for (const auto& [id, added] : declared.added) {
    by_content[added.content] = {added.content, id, added.lstrip, added.rstrip};
    tok->added_by_id_[id] = added.content;
    if (added.special) specials.skip_ids.insert(id);
    max_id = std::max(max_id, id);
  }
  auto resolve = [&](const DeclaredToken& s) -> int32_t {
    if (auto it = by_content.find(s.text); it != by_content.end()) return it->second.id;
    const int id = tok->sp_->PieceToId(s.text);
    TUNE_CHECK(tok->sp_->IdToPiece(id) == s.text, s.file.string(), ": ", s.key, " \"", s.text,
               "\" is neither in added_tokens_decoder nor a piece of tokenizer.model; fix the file");
    by_content[s.text] = {s.text, id, false, false};
    tok->added_by_id_[id] = s.text;
    return id;
  };
  auto named_id = [&](const char* key, int sp_fallback) -> int32_t {
    if (auto it = declared.named.find(key); it != declared.named.end()) return it->second ? resolve(*it->second) : -1;
    if (sp_fallback < 0) return -1;  // the model has no such piece either
    return resolve({tok->sp_->IdToPiece(sp_fallback), model_path, key});
  };
  specials.bos = named_id("bos_token", tok->sp_->bos_id());
  specials.eos = named_id("eos_token", tok->sp_->eos_id());
  specials.pad = named_id("pad_token", tok->sp_->pad_id());
  specials.unk = named_id("unk_token", tok->sp_->unk_id());
  for (const auto& s : declared.additional) specials.skip_ids.insert(resolve(s));
  for (const int32_t id : {specials.bos, specials.eos, specials.pad, specials.unk})
    if (id >= 0) specials.skip_ids.insert(id);
  // The slow Llama/Gemma tokenizers' defaults when tokenizer_config.json does not say.
  tok->add_bos_ = declared.add_bos_token.value_or(true);
  tok->add_eos_ = declared.add_eos_token.value_or(false);
  tok->bos_ = specials.bos;
  tok->eos_ = specials.eos;

  for (auto& [content, token] : by_content) {
    tok->split_tokens_.push_back(token);
    if (tok->split_first_bytes_.find(content[0]) == std::string::npos) tok->split_first_bytes_ += content[0];
  }
  std::stable_sort(tok->split_tokens_.begin(), tok->split_tokens_.end(),
                   [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  tok->size_ = max_id + 1;
  return {std::move(tok), std::move(specials)};
}

std::vector<int32_t> SpTokenizer::encode(std::string_view text) const {
  // Split into text chunks and added tokens (earliest position, longest token there), as HF's Trie.split does.
  struct Chunk {
    std::string_view text;
    const AddedToken* special;  // non-null for a split-out token
  };
  std::vector<Chunk> chunks;
  size_t start = 0;
  for (size_t pos = text.find_first_of(split_first_bytes_); pos < text.size();) {
    const AddedToken* match = nullptr;
    for (const AddedToken& t : split_tokens_) {
      if (t.content[0] == text[pos] && text.compare(pos, t.content.size(), t.content) == 0) {
        match = &t;
        break;
      }
    }
    if (!match) {
      pos = text.find_first_of(split_first_bytes_, pos + 1);
      continue;
    }
    if (pos > start) chunks.push_back({text.substr(start, pos - start), nullptr});
    chunks.push_back({{}, match});
    pos += match->content.size();
    start = pos;
    pos = text.find_first_of(split_first_bytes_, pos);
  }
  if (start < text.size()) chunks.push_back({text.substr(start), nullptr});

  // lstrip/rstrip: the token swallows the whitespace on its left/right side.
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (!chunks[i].special) continue;
    if (chunks[i].special->rstrip && i + 1 < chunks.size() && !chunks[i + 1].special) {
      std::string_view& next = chunks[i + 1].text;
      while (!next.empty() && is_ascii_space(next.front())) next.remove_prefix(1);
    }
    if (chunks[i].special->lstrip && i > 0 && !chunks[i - 1].special) {
      std::string_view& prev = chunks[i - 1].text;
      while (!prev.empty() && is_ascii_space(prev.back())) prev.remove_suffix(1);
    }
  }

  std::vector<int32_t> ids;
  std::vector<int> piece_ids;
  for (const Chunk& c : chunks) {
    if (c.special) {
      ids.push_back(c.special->id);
    } else if (!c.text.empty()) {
      const auto status = sp_->Encode(c.text, &piece_ids);
      TUNE_CHECK(status.ok(), "tokenizer: SentencePiece could not encode a text (", status.ToString(), ")");
      ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
    }
  }
  return ids;
}

std::string SpTokenizer::decode(std::span<const int32_t> ids) const {
  std::string out, piece_text;
  std::vector<int> run;  // ordinary SentencePiece ids waiting to be decoded together
  auto flush = [&] {
    if (run.empty()) return;
    const auto status = sp_->Decode(run, &piece_text);
    TUNE_CHECK(status.ok(), "tokenizer: SentencePiece could not decode ids (", status.ToString(), ")");
    out += piece_text;
    run.clear();
  };
  for (int32_t id : ids) {
    if (auto it = added_by_id_.find(id); it != added_by_id_.end()) {
      flush();
      out += it->second;
      continue;
    }
    TUNE_CHECK(id >= 0 && id < sp_->GetPieceSize(), "tokenizer: cannot decode token id ", id,
               ": no such token (vocabulary size ", size_, ")");
    run.push_back(id);
  }
  flush();
  return out;
}

std::optional<std::string> SpTokenizer::id_to_piece(int32_t id) const {
  if (auto it = added_by_id_.find(id); it != added_by_id_.end()) return it->second;
  if (id < 0 || id >= sp_->GetPieceSize()) return std::nullopt;
  return sp_->IdToPiece(id);
}

std::optional<int32_t> SpTokenizer::piece_to_id(std::string_view piece) const {
  for (const AddedToken& t : split_tokens_)
    if (t.content == piece) return t.id;
  const int id = sp_->PieceToId(piece);
  if (sp_->IdToPiece(id) != piece) return std::nullopt;
  return id;
}

std::vector<int32_t> SpTokenizer::add_special_tokens(std::vector<int32_t> ids) const {
  if (add_bos_ && bos_ >= 0) ids.insert(ids.begin(), bos_);
  if (add_eos_ && eos_ >= 0) ids.push_back(eos_);
  return ids;
}

}  // namespace tune::text_detail
