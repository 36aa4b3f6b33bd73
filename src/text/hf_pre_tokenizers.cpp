// tokenizer.json pre-tokenizers: Sequence, ByteLevel, Split, Metaspace, Digits, with HF's split behaviors.
#include <algorithm>

#include "core/error.h"
#include "text/hf_json.h"
#include "text/hf_pattern.h"
#include "text/hf_pipeline.h"
#include "text/unicode.h"

namespace tune::text_detail {

using json = nlohmann::json;

namespace {

// GPT-2's pre-tokenizer regex, which ByteLevel uses when use_regex is true.
constexpr const char* kGpt2Split = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

Behavior parse_behavior(const std::string& name, const std::string& where) {
  if (name == "Removed") return Behavior::Removed;
  if (name == "Isolated") return Behavior::Isolated;
  if (name == "MergedWithPrevious") return Behavior::MergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::MergedWithNext;
  if (name == "Contiguous") return Behavior::Contiguous;
  fail(where, ": unknown split behavior \"", name, "\"");
}

struct Span {
  size_t begin, end;
  bool is_match;
};

// HF Pattern::find_matches: the whole text as alternating non-match / match spans.
std::vector<Span> match_spans(std::string_view text, const std::vector<std::pair<size_t, size_t>>& matches) {
  std::vector<Span> spans;
  if (text.empty()) return {{0, 0, false}};
  size_t prev = 0;
  for (const auto& [b, e] : matches) {
    if (b != prev) spans.push_back({prev, b, false});
    spans.push_back({b, e, true});
    prev = e;
  }
  if (prev != text.size()) spans.push_back({prev, text.size(), false});
  return spans;
}

// HF NormalizedString::split: spans -> the pieces the behavior keeps (empty pieces dropped).
void split_piece(const Piece& piece, std::vector<Span> spans, Behavior behavior, bool invert,
                 std::vector<Piece>& out) {
  if (invert)
    for (Span& s : spans) s.is_match = !s.is_match;
  std::vector<std::pair<size_t, size_t>> kept;
  bool previous_match = false;
  switch (behavior) {
    case Behavior::Isolated:
      for (const Span& s : spans) kept.emplace_back(s.begin, s.end);
      break;
    case Behavior::Removed:
      for (const Span& s : spans)
        if (!s.is_match) kept.emplace_back(s.begin, s.end);
      break;
    case Behavior::MergedWithPrevious:
      for (const Span& s : spans) {
        if (s.is_match && !previous_match && !kept.empty())
          kept.back().second = s.end;
        else
          kept.emplace_back(s.begin, s.end);
        previous_match = s.is_match;
      }
      break;
    case Behavior::MergedWithNext:
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->is_match && !previous_match && !kept.empty())
          kept.back().first = it->begin;
        else
          kept.emplace_back(it->begin, it->end);
        previous_match = it->is_match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
    case Behavior::Contiguous:
      for (size_t i = 0; i < spans.size(); ++i) {
        if (i > 0 && spans[i].is_match == previous_match)
          kept.back().second = spans[i].end;
        else
          kept.emplace_back(spans[i].begin, spans[i].end);
        previous_match = spans[i].is_match;
      }
      break;
  }
  for (const auto& [b, e] : kept)
    if (e > b) out.push_back({piece.text.substr(b, e - b), piece.at_start && b == 0});
}

std::vector<std::pair<size_t, size_t>> char_matches(std::string_view text, bool (*pred)(char32_t)) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t at = 0; at < text.size();) {
    const size_t len = std::min(utf8_char_len(static_cast<unsigned char>(text[at])), text.size() - at);
    if (pred(utf8_code_point(text, at))) out.emplace_back(at, at + len);
    at += len;
  }
  return out;
}

PreTokenizer byte_level(const json& j, const std::string& where) {
  const bool add_prefix_space = hf_bool(j, "add_prefix_space", true, where);
  const bool use_regex = hf_bool(j, "use_regex", true, where);
  auto regex = std::make_shared<const UnicodeRegex>(kGpt2Split, where);
  return [=](std::vector<Piece> pieces) {
    std::vector<Piece> split;
    for (Piece& p : pieces) {
      if (add_prefix_space && (p.text.empty() || p.text[0] != ' ')) p.text.insert(0, " ");
      if (use_regex)
        split_piece(p, match_spans(p.text, regex->find_all(p.text)), Behavior::Isolated, false, split);
      else if (!p.text.empty())
        split.push_back(std::move(p));
    }
    for (Piece& p : split) {  // every byte -> its printable stand-in
      std::string mapped;
      for (unsigned char b : p.text) mapped += byte_level_char(b);
      p.text = std::move(mapped);
    }
    return split;
  };
}

PreTokenizer metaspace(const json& j, const std::string& where) {
  const std::string replacement = hf_string(j, "replacement", where);
  TUNE_CHECK(!replacement.empty() && utf8_char_len(static_cast<unsigned char>(replacement[0])) == replacement.size(),
             where, ": Metaspace \"replacement\" must be one character");
  std::string scheme = "always";
  if (j.contains("prepend_scheme"))
    scheme = hf_string(j, "prepend_scheme", where);
  else if (!hf_bool(j, "add_prefix_space", true, where))  // files before tokenizers 0.19
    scheme = "never";
  TUNE_CHECK(scheme == "always" || scheme == "first" || scheme == "never", where, ": Metaspace prepend_scheme \"",
             scheme, "\" must be always, first or never");
  const bool split = hf_bool(j, "split", true, where);
  const nlohmann::json space = {{"String", " "}};
  const TextPattern spaces(space, where);
  const TextPattern marks(nlohmann::json{{"String", replacement}}, where);
  return [=](std::vector<Piece> pieces) {
    std::vector<Piece> out;
    for (Piece& p : pieces) {
      p.text = spaces.replace_all(p.text, replacement);
      const bool starts = p.text.compare(0, replacement.size(), replacement) == 0;
      if (!starts && (scheme == "always" || (scheme == "first" && p.at_start))) p.text.insert(0, replacement);
      if (split)
        split_piece(p, match_spans(p.text, marks.find_all(p.text)), Behavior::MergedWithNext, false, out);
      else if (!p.text.empty())
        out.push_back(std::move(p));
    }
    return out;
  };
}

}  // namespace

PreTokenizer parse_pre_tokenizer(const json& j, const std::string& file) {
  if (j.is_null()) return [](std::vector<Piece> pieces) { return pieces; };
  const std::string where = file + ": pre_tokenizer";
  const std::string type = hf_type(j, where);
  if (type == "Sequence") {
    const json& list = hf_field(j, "pretokenizers", where);
    TUNE_CHECK(list.is_array(), where, ": \"pretokenizers\" must be a list");
    std::vector<PreTokenizer> steps;
    for (const json& p : list) steps.push_back(parse_pre_tokenizer(p, file));
    return [steps](std::vector<Piece> pieces) {
      for (const PreTokenizer& p : steps) pieces = p(std::move(pieces));
      return pieces;
    };
  }
  if (type == "ByteLevel") return byte_level(j, where);
  if (type == "Metaspace") return metaspace(j, where);
  if (type == "Split") {
    const TextPattern pattern(hf_field(j, "pattern", where), where);
    const Behavior behavior = parse_behavior(hf_string(j, "behavior", where), where);
    const bool invert = hf_bool(j, "invert", false, where);
    return [=](std::vector<Piece> pieces) {
      std::vector<Piece> out;
      for (const Piece& p : pieces) split_piece(p, match_spans(p.text, pattern.find_all(p.text)), behavior, invert, out);
      return out;
    };
  }
  if (type == "Digits") {
    const Behavior behavior = hf_bool(j, "individual_digits", false, where) ? Behavior::Isolated : Behavior::Contiguous;
    return [=](std::vector<Piece> pieces) {
      std::vector<Piece> out;
      for (const Piece& p : pieces)
        split_piece(p, match_spans(p.text, char_matches(p.text, is_unicode_numeric)), behavior, false, out);
      return out;
    };
  }
  fail(where, ": type \"", type, "\" is not supported (supported: Sequence, ByteLevel, Split, Metaspace, Digits)");
}

}  // namespace tune::text_detail
