// "Did you mean": the valid name closest to a misspelt one, by edit distance.
#pragma once
#include <string>
#include <vector>

namespace tune {

// The candidate closest to `word` within max(2, |word| / 3) edits (Levenshtein), or "" when none is that close.
std::string nearest_name(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace tune
