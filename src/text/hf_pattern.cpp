// tokenizer.json String/Regex patterns.
#include "text/hf_pattern.h"

#include "core/error.h"

namespace tune::text_detail {

TextPattern::TextPattern(const nlohmann::json& j, const std::string& where) {
  TUNE_CHECK(j.is_object() && j.size() == 1 && (j.contains("String") || j.contains("Regex")), where,
             ": \"pattern\" must be {\"String\": ...} or {\"Regex\": ...}");
  if (j.contains("String")) {
    TUNE_CHECK(j["String"].is_string() && !j["String"].get<std::string>().empty(), where,
               ": pattern.String must be a non-empty string");
    literal_ = j["String"].get<std::string>();
  } else {
    TUNE_CHECK(j["Regex"].is_string(), where, ": pattern.Regex must be a string");
    regex_ = std::make_shared<const UnicodeRegex>(j["Regex"].get<std::string>(), where);
  }
}

std::vector<std::pair<size_t, size_t>> TextPattern::find_all(std::string_view text) const {
  if (regex_) return regex_->find_all(text);
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t at = text.find(literal_); at != std::string_view::npos; at = text.find(literal_, at + literal_.size()))
    out.emplace_back(at, at + literal_.size());
  return out;
}

std::string TextPattern::replace_all(std::string_view text, std::string_view with) const {
  std::string out;
  size_t done = 0;
  for (const auto& [b, e] : find_all(text)) {
    out.append(text.substr(done, b - done));
    out.append(with);
    done = e;
  }
  out.append(text.substr(done));
  return out;
}

}  // namespace tune::text_detail
