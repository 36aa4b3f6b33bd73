// PyYAML's scalar-style choice for a string value in block context: plain, 'single' or "double" quoted.
#include "report/yaml_scalar.h"

#include <cstdio>
#include <regex>

namespace tune {
namespace {

// PyYAML's YAML 1.1 implicit resolvers: plain text matching one of these would load as a non-string.
bool resolves_to_non_string(const std::string& s) {
  static const std::regex patterns[] = {
      std::regex("yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"),  // bool
      std::regex("[-+]?[0-9][0-9_]*\\.[0-9_]*([eE][-+][0-9]+)?"                                 // float
                 "|\\.[0-9][0-9_]*([eE][-+][0-9]+)?"
                 "|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*"
                 "|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)"),
      std::regex("[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"  // int
                 "|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+"),
      std::regex("<<"),                  // merge
      std::regex("~|null|Null|NULL|"),  // null
      std::regex("[0-9]{4}-[0-9]{2}-[0-9]{2}"  // timestamp
                 "|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt]|[ \\t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\\.[0-9]*)?"
                 "([ \\t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?"),
      std::regex("="),  // value
  };
  for (const auto& re : patterns)
    if (std::regex_match(s, re)) return true;
  return false;
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0'; }

struct Analysis {
  bool special = false;           // control or non-ASCII characters: only double quotes can hold them
  bool block_plain_ok = true;     // no indicator or leading/trailing space rules out plain
};

Analysis analyze(std::string_view s) {
  Analysis a;
  if (s.substr(0, 3) == "---" || s.substr(0, 3) == "...") a.block_plain_ok = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    const bool followed_by_blank = i + 1 >= s.size() || is_blank(s[i + 1]);
    if (i == 0) {
      if (std::string_view("#,[]{}&*!|>'\"%@`").find(c) != std::string_view::npos) a.block_plain_ok = false;
      if ((c == '?' || c == ':' || c == '-') && followed_by_blank) a.block_plain_ok = false;
    } else {
      if (c == ':' && followed_by_blank) a.block_plain_ok = false;
      if (c == '#' && is_blank(s[i - 1])) a.block_plain_ok = false;
    }
    if (u < 0x20 || u > 0x7E) a.special = true;  // PyYAML single-quotes line breaks with folding; "\n" is simpler
  }
  if (!s.empty() && (s.front() == ' ' || s.back() == ' ')) a.block_plain_ok = false;
  return a;
}

// PyYAML write_double_quoted escapes (without line folding), decoding UTF-8 to code points.
std::string double_quoted(std::string_view s) {
  std::string out = "\"";
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    char32_t cp = b0;
    size_t len = 1;
    if (b0 >= 0xC0 && b0 < 0xE0) len = 2, cp = b0 & 0x1F;
    else if (b0 >= 0xE0 && b0 < 0xF0) len = 3, cp = b0 & 0x0F;
    else if (b0 >= 0xF0 && b0 < 0xF8) len = 4, cp = b0 & 0x07;
    if (len > 1 && i + len <= s.size()) {
      for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    } else {
      len = 1;
    }
    i += len;
    switch (cp) {
      case 0x00: out += "\\0"; continue;
      case 0x07: out += "\\a"; continue;
      case 0x08: out += "\\b"; continue;
      case 0x09: out += "\\t"; continue;
      case 0x0A: out += "\\n"; continue;
      case 0x0B: out += "\\v"; continue;
      case 0x0C: out += "\\f"; continue;
      case 0x0D: out += "\\r"; continue;
      case 0x1B: out += "\\e"; continue;
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case 0x85: out += "\\N"; continue;
      case 0xA0: out += "\\_"; continue;
      case 0x2028: out += "\\L"; continue;
      case 0x2029: out += "\\P"; continue;
      default: break;
    }
    if (cp >= 0x20 && cp <= 0x7E) {
      out += static_cast<char>(cp);
      continue;
    }
    if (cp <= 0xFF) std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(cp));
    else if (cp <= 0xFFFF) std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
    else std::snprintf(buf, sizeof buf, "\\U%08X", static_cast<unsigned>(cp));
    out += buf;
  }
  return out + "\"";
}

}  // namespace

std::string pyyaml_scalar(std::string_view s) {
  const Analysis a = analyze(s);
  if (a.special) return double_quoted(s);
  const std::string text(s);
  if (!s.empty() && a.block_plain_ok && !resolves_to_non_string(text)) return text;
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

}  // namespace tune
