// tokenizer.json -> encode/decode as HF `tokenizers` (the fast tokenizer transformers loads).
#include "text/hf_tokenizer.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "text/hf_json.h"
#include "text/unicode.h"

namespace tune::text_detail {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

json read_tokenizer_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  TUNE_CHECK(in, path.string(), ": cannot open for reading; check its permissions");
  std::stringstream text;
  text << in.rdbuf();
  try {
    json doc = json::parse(text.str());
    TUNE_CHECK(doc.is_object(), path.string(), ": expected a JSON object at the top level");
    return doc;
  } catch (const json::exception& e) {
    fail(path.string(), ": invalid JSON (", e.what(), "); replace it with the tokenizer.json from the model's ",
         "Hugging Face repo");
  }
}

// Byte offset where the whitespace run ending text begins (HF space_leftmost_at_end).
size_t trailing_space_start(std::string_view text) {
  size_t at = text.size();
  while (at > 0) {
    size_t b = at - 1;
    while (b > 0 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
    if (!is_unicode_whitespace(utf8_code_point(text, b))) break;
    at = b;
  }
  return at;
}

// Byte length of the whitespace run starting text (HF space_rightmost_at_start).
size_t leading_space_len(std::string_view text) {
  size_t at = 0;
  while (at < text.size()) {
    const size_t len = std::min(utf8_char_len(static_cast<unsigned char>(text[at])), text.size() - at);
    if (!is_unicode_whitespace(utf8_code_point(text, at))) break;
    at += len;
  }
  return at;
}

bool last_char_is_word(std::string_view text) {
  if (text.empty()) return false;
  size_t b = text.size() - 1;
  while (b > 0 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
  return is_unicode_alphanumeric(utf8_code_point(text, b));
}

bool first_char_is_word(std::string_view text) {
  return !text.empty() && is_unicode_alphanumeric(utf8_code_point(text, 0));
}

// transformers' clean_up_tokenization.
std::string clean_up_tokenization(std::string s) {
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) {
    const std::string f = from, t = to;
    std::string out;
    size_t done = 0;
    for (size_t at = s.find(f); at != std::string::npos; at = s.find(f, at + f.size())) {
      out.append(s, done, at - done);
      out += t;
      done = at + f.size();
    }
    out.append(s, done, std::string::npos);
    s = std::move(out);
  }
  return s;
}

}  // namespace

std::pair<std::unique_ptr<HfTokenizer>, SpecialTokens> HfTokenizer::load(const fs::path& json_path,
                                                                          const DeclaredTokens& declared) {
  return from_json(read_tokenizer_json(json_path), json_path.string(), declared);
}

std::pair<std::unique_ptr<HfTokenizer>, SpecialTokens> HfTokenizer::from_json(const json& doc,
                                                                               const std::string& file,
                                                                               const DeclaredTokens& declared) {
  std::unique_ptr<HfTokenizer> tok(new HfTokenizer());
  tok->model_ = parse_subword_model(hf_field(doc, "model", file), file);
  tok->normalizer_ = parse_normalizer(doc.value("normalizer", json()), file);
  tok->pre_tokenizer_ = parse_pre_tokenizer(doc.value("pre_tokenizer", json()), file);
  tok->decoder_ = parse_decoder(doc.value("decoder", json()), file);
  tok->post_processor_ = tok->parse_post_processor(doc.value("post_processor", json()), file);
  tok->clean_up_spaces_ = declared.clean_up_tokenization_spaces;

  int32_t max_id = tok->model_->size() - 1;
  static const json kNone = json::array();
  const json& added = doc.contains("added_tokens") ? doc["added_tokens"] : kNone;
  TUNE_CHECK(added.is_array(), file, ": \"added_tokens\" must be a list");
  for (size_t i = 0; i < added.size(); ++i) {
    const std::string where = cat(file, ": added_tokens[", i, "]");
    const json& t = added[i];
    const json& id = hf_field(t, "id", where);
    TUNE_CHECK(id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() < (1 << 30), where,
               ": \"id\" must be a non-negative token id");
    AddedToken a{hf_string(t, "content", where), id.get<int32_t>(), hf_bool(t, "single_word", false, where),
                 hf_bool(t, "lstrip", false, where), hf_bool(t, "rstrip", false, where),
                 hf_bool(t, "normalized", true, where), hf_bool(t, "special", false, where)};
    TUNE_CHECK(!a.content.empty(), where, ": \"content\" is empty");
    max_id = std::max(max_id, a.id);
    tok->added_.push_back(std::move(a));
  }
  for (size_t i = 0; i < tok->added_.size(); ++i) {
    const AddedToken& a = tok->added_[i];
    tok->added_by_id_[a.id] = i;
    tok->added_by_content_[a.content] = a.id;
    Matcher& m = a.normalized ? tok->normalized_matcher_ : tok->raw_matcher_;
    m.by_first_byte[static_cast<unsigned char>(a.content[0])].push_back(&a);
  }
  for (Matcher* m : {&tok->raw_matcher_, &tok->normalized_matcher_})
    for (auto& [byte, list] : m->by_first_byte)
      std::stable_sort(list.begin(), list.end(),
                       [](const AddedToken* x, const AddedToken* y) { return x->content.size() > y->content.size(); });
  tok->size_ = max_id + 1;

  SpecialTokens specials;
  for (const AddedToken& a : tok->added_)
    if (a.special) specials.skip_ids.insert(a.id);
  auto resolve = [&](const DeclaredToken& s) -> int32_t {
    auto id = tok->piece_to_id(s.text);
    TUNE_CHECK(id, s.file.string(), ": ", s.key, " \"", s.text, "\" is not a token of ", file, "; fix the file");
    return *id;
  };
  auto named_id = [&](const char* key) -> int32_t {
    auto it = declared.named.find(key);
    return it != declared.named.end() && it->second ? resolve(*it->second) : -1;
  };
  specials.bos = named_id("bos_token");
  specials.eos = named_id("eos_token");
  specials.pad = named_id("pad_token");
  specials.unk = named_id("unk_token");
  for (const auto& s : declared.additional) specials.skip_ids.insert(resolve(s));
  for (const int32_t id : {specials.bos, specials.eos, specials.pad, specials.unk})
    if (id >= 0) specials.skip_ids.insert(id);
  return {std::move(tok), std::move(specials)};
}

HfTokenizer::PostStep HfTokenizer::parse_post_processor(const json& j, const std::string& file) {
  if (j.is_null()) return [](std::vector<int32_t> ids) { return ids; };
  const std::string where = file + ": post_processor";
  const std::string type = hf_type(j, where);
  if (type == "ByteLevel") return [](std::vector<int32_t> ids) { return ids; };  // offsets only
  if (type == "Sequence") {
    const json& list = hf_field(j, "processors", where);
    TUNE_CHECK(list.is_array(), where, ": \"processors\" must be a list");
    std::vector<PostStep> steps;
    for (const json& p : list) steps.push_back(parse_post_processor(p, file));
    return [steps](std::vector<int32_t> ids) {
      for (const PostStep& s : steps) ids = s(std::move(ids));
      return ids;
    };
  }
  TUNE_CHECK(type == "TemplateProcessing", where, ": type \"", type,
             "\" is not supported (supported: TemplateProcessing, ByteLevel, Sequence)");
  const json& single = hf_field(j, "single", where);
  const json& specials = j.value("special_tokens", json::object());
  TUNE_CHECK(single.is_array(), where, ": \"single\" must be a list");
  std::vector<std::vector<int32_t>> parts;  // fixed ids, or an empty list with is_sequence marking the text's place
  std::vector<bool> is_sequence;
  for (const json& item : single) {
    if (item.contains("Sequence")) {
      parts.emplace_back();
      is_sequence.push_back(true);
      continue;
    }
    const std::string name = hf_string(hf_field(item, "SpecialToken", where), "id", where + ".single");
    TUNE_CHECK(specials.contains(name) && specials[name].contains("ids") && specials[name]["ids"].is_array(), where,
               ": special token \"", name, "\" of \"single\" has no \"ids\" in \"special_tokens\"");
    parts.push_back(specials[name]["ids"].get<std::vector<int32_t>>());
    is_sequence.push_back(false);
  }
  return [parts, is_sequence](std::vector<int32_t> ids) {
    std::vector<int32_t> out;
    for (size_t i = 0; i < parts.size(); ++i)
      out.insert(out.end(), is_sequence[i] ? ids.begin() : parts[i].begin(), is_sequence[i] ? ids.end() : parts[i].end());
    return out;
  };
}

void HfTokenizer::split_added(std::string_view text, bool at_start, const Matcher& matcher,
                              std::vector<Segment>& out) const {
  // HF AddedVocabulary::find_matches: leftmost-longest matches; single_word, lstrip and rstrip adjust or skip them.
  size_t done = 0;  // end of the last emitted segment
  for (size_t pos = 0; pos < text.size();) {
    const AddedToken* match = nullptr;
    if (auto it = matcher.by_first_byte.find(static_cast<unsigned char>(text[pos])); it != matcher.by_first_byte.end())
      for (const AddedToken* t : it->second)
        if (text.compare(pos, t->content.size(), t->content) == 0) {
          match = t;
          break;
        }
    if (!match) {
      ++pos;
      continue;
    }
    size_t start = pos, stop = pos + match->content.size();
    pos = stop;  // the search resumes after the match, kept or not
    if (match->single_word && (last_char_is_word(text.substr(0, start)) || first_char_is_word(text.substr(stop))))
      continue;
    if (match->lstrip) start = std::max(trailing_space_start(text.substr(0, start)), done);
    if (match->rstrip) stop += leading_space_len(text.substr(stop));
    if (done < start) out.push_back({std::string(text.substr(done, start - done)), -1, at_start && done == 0});
    out.push_back({{}, match->id, false});
    done = stop;
  }
  if (done < text.size()) out.push_back({std::string(text.substr(done)), -1, at_start && done == 0});
}

std::vector<int32_t> HfTokenizer::encode(std::string_view text) const {
  std::vector<Segment> raw, segments;
  split_added(text, true, raw_matcher_, raw);
  for (Segment& s : raw) {
    if (s.id >= 0) {
      segments.push_back(std::move(s));
      continue;
    }
    split_added(normalizer_(std::move(s.text)), s.at_start, normalized_matcher_, segments);
  }
  std::vector<int32_t> ids;
  for (Segment& s : segments) {
    if (s.id >= 0) {
      ids.push_back(s.id);
      continue;
    }
    std::vector<Piece> pieces;
    pieces.push_back({std::move(s.text), s.at_start});
    for (const Piece& p : pre_tokenizer_(std::move(pieces)))
      if (!p.text.empty()) model_->tokenize(p.text, ids);
  }
  return ids;
}

std::string HfTokenizer::decode(std::span<const int32_t> ids) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    auto piece = id_to_piece(id);
    TUNE_CHECK(piece, "tokenizer: cannot decode token id ", id, ": no such token (vocabulary size ", size_, ")");
    tokens.push_back(std::move(*piece));
  }
  std::string out;
  for (const std::string& t : decoder_(std::move(tokens))) out += t;
  return clean_up_spaces_ ? clean_up_tokenization(std::move(out)) : out;
}

std::optional<std::string> HfTokenizer::id_to_piece(int32_t id) const {
  if (auto it = added_by_id_.find(id); it != added_by_id_.end()) return added_[it->second].content;
  return model_->id_to_token(id);
}

std::optional<int32_t> HfTokenizer::piece_to_id(std::string_view piece) const {
  if (auto it = added_by_content_.find(piece); it != added_by_content_.end()) return it->second;
  return model_->token_to_id(piece);
}

std::vector<int32_t> HfTokenizer::add_special_tokens(std::vector<int32_t> ids) const {
  return post_processor_(std::move(ids));
}

}  // namespace tune::text_detail
