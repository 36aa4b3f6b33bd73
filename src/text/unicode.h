// Unicode for the HF tokenizer pipeline, on ICU: UTF-8 walking, character properties, normalization forms, regex
// search, and Rust's lossy UTF-8 decoding.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tune::text_detail {

// Byte length of the UTF-8 sequence starting with byte b (1 for a stray continuation or invalid lead byte).
size_t utf8_char_len(unsigned char b);
// The code point of the (valid) UTF-8 character at s[at]; at must be a character start.
char32_t utf8_code_point(std::string_view s, size_t at);
void append_utf8(std::string& out, char32_t cp);

bool is_unicode_whitespace(char32_t cp);  // White_Space (Rust char::is_whitespace)
bool is_unicode_numeric(char32_t cp);     // general category Nd, Nl or No (Rust char::is_numeric)
bool is_unicode_alphanumeric(char32_t cp);  // Alphabetic or numeric (Rust char::is_alphanumeric)

enum class NormalForm { Nfc, Nfd, Nfkc, Nfkd };
std::string normalize(std::string_view text, NormalForm form);

// Bytes -> UTF-8 text as Rust's String::from_utf8_lossy: each maximal invalid subsequence becomes one U+FFFD.
std::string utf8_lossy(std::string_view bytes);
bool is_valid_utf8(std::string_view bytes);

// A compiled regular expression in ICU syntax, which covers the patterns of tokenizer.json files (\p{L}, \p{N},
// (?i:...), (?!...)) with the meaning Oniguruma (HF `tokenizers`' engine) gives them; ICU's \s is Unicode
// White_Space as Oniguruma's (U+000B and U+0085 included; the fixtures hold both).
class UnicodeRegex {
 public:
  // Throws tune::Error naming `where` when the pattern does not compile.
  UnicodeRegex(std::string_view pattern, std::string_view where);
  UnicodeRegex(UnicodeRegex&&) noexcept;
  UnicodeRegex& operator=(UnicodeRegex&&) noexcept;
  ~UnicodeRegex();
  // The non-overlapping, non-empty matches in text, left to right, as [begin, end) byte offsets.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tune::text_detail
