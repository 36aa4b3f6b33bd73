// A tokenizer.json pattern, {"String": "..."} (a literal) or {"Regex": "..."}: finds its matches and replaces them
// (private to src/text).
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "text/unicode.h"

namespace tune::text_detail {

class TextPattern {
 public:
  TextPattern(const nlohmann::json& j, const std::string& where);
  // Non-overlapping, non-empty matches, left to right, as [begin, end) byte offsets.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;
  std::string replace_all(std::string_view text, std::string_view with) const;

 private:
  std::string literal_;
  std::shared_ptr<const UnicodeRegex> regex_;  // set for a Regex pattern
};

}  // namespace tune::text_detail
