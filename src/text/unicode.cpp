// Unicode for the HF tokenizer pipeline: ICU character properties, normalizers and regex, plus UTF-8 helpers.
#include "text/unicode.h"

#include <unicode/normalizer2.h>
#include <unicode/regex.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utext.h>

#include "core/error.h"

namespace tune::text_detail {

size_t utf8_char_len(unsigned char b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 1;
}

char32_t utf8_code_point(std::string_view s, size_t at) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[at + i]); };
  const size_t n = utf8_char_len(b(0));
  if (n == 1 || at + n > s.size()) return b(0);
  char32_t cp = b(0) & (0x7F >> n);
  for (size_t i = 1; i < n; ++i) cp = (cp << 6) | (b(i) & 0x3F);
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_unicode_whitespace(char32_t cp) { return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_WHITE_SPACE); }

bool is_unicode_numeric(char32_t cp) {
  const int8_t t = u_charType(static_cast<UChar32>(cp));
  return t == U_DECIMAL_DIGIT_NUMBER || t == U_LETTER_NUMBER || t == U_OTHER_NUMBER;
}

bool is_unicode_alphanumeric(char32_t cp) {
  return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_ALPHABETIC) || is_unicode_numeric(cp);
}

std::string normalize(std::string_view text, NormalForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = nullptr;
  switch (form) {
    case NormalForm::Nfc: n = icu::Normalizer2::getNFCInstance(status); break;
    case NormalForm::Nfd: n = icu::Normalizer2::getNFDInstance(status); break;
    case NormalForm::Nfkc: n = icu::Normalizer2::getNFKCInstance(status); break;
    case NormalForm::Nfkd: n = icu::Normalizer2::getNFKDInstance(status); break;
  }
  TUNE_CHECK(U_SUCCESS(status), "ICU: cannot load the Unicode normalization data (", u_errorName(status), ")");
  const icu::UnicodeString in = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), text.size()));
  const icu::UnicodeString out = n->normalize(in, status);
  TUNE_CHECK(U_SUCCESS(status), "ICU: Unicode normalization failed (", u_errorName(status), ")");
  std::string result;
  out.toUTF8String(result);
  return result;
}

namespace {

// Length of the maximal prefix of s[at..] that starts a well-formed UTF-8 sequence (Unicode table 3-7), and whether
// that prefix is the whole sequence.
std::pair<size_t, bool> utf8_prefix(std::string_view s, size_t at) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[at + i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return {1, true};
  const size_t n = utf8_char_len(lead);
  if (n == 1) return {1, false};
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (lead == 0xE0) lo = 0xA0;
  if (lead == 0xED) hi = 0x9F;
  if (lead == 0xF0) lo = 0x90;
  if (lead == 0xF4) hi = 0x8F;
  for (size_t i = 1; i < n; ++i) {
    if (at + i >= s.size()) return {i, false};
    const unsigned char b = byte(i);
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return {i, false};
  }
  return {n, true};
}

}  // namespace

std::string utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t at = 0; at < bytes.size();) {
    const auto [len, valid] = utf8_prefix(bytes, at);
    if (valid)
      out.append(bytes.substr(at, len));
    else
      out += "\xEF\xBF\xBD";  // U+FFFD
    at += len;
  }
  return out;
}

bool is_valid_utf8(std::string_view bytes) {
  for (size_t at = 0; at < bytes.size();) {
    const auto [len, valid] = utf8_prefix(bytes, at);
    if (!valid) return false;
    at += len;
  }
  return true;
}

struct UnicodeRegex::Impl {
  std::unique_ptr<icu::RegexPattern> pattern;
};

UnicodeRegex::UnicodeRegex(std::string_view pattern, std::string_view where) : impl_(std::make_unique<Impl>()) {
  UErrorCode status = U_ZERO_ERROR;
  UParseError parse{};
  impl_->pattern.reset(icu::RegexPattern::compile(
      icu::UnicodeString::fromUTF8(icu::StringPiece(pattern.data(), pattern.size())), 0, parse, status));
  TUNE_CHECK(U_SUCCESS(status), where, ": the regex '", pattern, "' does not compile (", u_errorName(status),
             " at offset ", parse.offset, ")");
}

UnicodeRegex::UnicodeRegex(UnicodeRegex&&) noexcept = default;
UnicodeRegex& UnicodeRegex::operator=(UnicodeRegex&&) noexcept = default;
UnicodeRegex::~UnicodeRegex() = default;

std::vector<std::pair<size_t, size_t>> UnicodeRegex::find_all(std::string_view text) const {
  std::vector<std::pair<size_t, size_t>> out;
  if (text.empty()) return out;
  UErrorCode status = U_ZERO_ERROR;
  UText* ut = utext_openUTF8(nullptr, text.data(), static_cast<int64_t>(text.size()), &status);
  std::unique_ptr<icu::RegexMatcher> m(impl_->pattern->matcher(status));
  TUNE_CHECK(U_SUCCESS(status), "ICU: cannot start a regex search (", u_errorName(status), ")");
  m->reset(ut);
  while (m->find(status) && U_SUCCESS(status)) {
    const int64_t b = m->start64(status), e = m->end64(status);  // UTF-8 native indexes = byte offsets
    if (e > b) out.emplace_back(static_cast<size_t>(b), static_cast<size_t>(e));
  }
  m.reset();
  utext_close(ut);
  TUNE_CHECK(U_SUCCESS(status), "ICU: regex search failed (", u_errorName(status), ")");
  return out;
}

}  // namespace tune::text_detail
