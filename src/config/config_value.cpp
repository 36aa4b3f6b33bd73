// Typed reads of raw config values, with messages that name the key, the value and what was expected.
#include "config/config_value.h"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <system_error>

#include "core/error.h"

namespace tune {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

const std::string& single(const ConfigValue& v, const std::string& must_be) {
  if (v.is_null || v.is_list || v.items.size() != 1) fail_value(v, must_be);
  return v.items[0];
}

}  // namespace

std::string ConfigValue::text() const {
  if (is_null) return "null";
  if (!is_list) return items.empty() ? "" : items[0];
  std::string s = "[";
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
  return s + "]";
}

void fail_value(const ConfigValue& v, const std::string& must_be) {
  fail(v.source, ": ", v.key, " must be ", must_be, ", got '", v.text(), "'", v.where);
}

int parse_bool_word(const std::string& s) {
  const std::string w = lower(s);
  if (w == "true" || w == "yes" || w == "on") return 1;
  if (w == "false" || w == "no" || w == "off") return 0;
  return -1;
}

bool value_bool(const ConfigValue& v) {
  const int b = parse_bool_word(single(v, "true or false"));
  if (b < 0) fail_value(v, "true or false");
  return b == 1;
}

int64_t value_int(const ConfigValue& v, const std::string& must_be) {
  std::string s = single(v, must_be);
  if (!s.empty() && s[0] == '+') s.erase(0, 1);
  int64_t out = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) fail_value(v, must_be);
  return out;
}

double value_double(const ConfigValue& v, const std::string& must_be) {
  std::string s = single(v, must_be);
  if (!s.empty() && s[0] == '+') s.erase(0, 1);
  double out = 0.0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(out)) fail_value(v, must_be);
  return out;
}

std::string value_string(const ConfigValue& v) {
  if (v.is_null) return "";
  return single(v, "a single value, not a list");
}

std::vector<std::string> value_list(const ConfigValue& v) {
  std::vector<std::string> out;
  if (v.is_null) return out;
  std::vector<std::string> parts;
  if (v.is_list) {
    parts = v.items;
  } else {
    const std::string& s = v.items.at(0);
    if (trim(s).empty()) return out;
    size_t start = 0;
    while (true) {
      const size_t comma = s.find(',', start);
      parts.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  for (const auto& p : parts) {
    const std::string item = trim(p);
    if (item.empty()) fail_value(v, "a comma list of names without empty items");
    out.push_back(item);
  }
  return out;
}

namespace {

bool plain_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '/' || c == '-' || c == ',';
}

// Plain YAML text that a YAML 1.1 or 1.2 reader would take for something other than a string: numbers (also hex,
// octal, dates, which all start with a digit or sign), .inf/.nan, bool and null words.
bool reads_as_non_string(const std::string& s) {
  const unsigned char first = static_cast<unsigned char>(s[0]);
  if (std::isdigit(first) || first == '-' || first == '+' || first == ',') return true;
  double d = 0.0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  const std::string l = lower(s);
  return (ec == std::errc() && end == s.data() + s.size()) || l == ".inf" || l == ".nan" || l == "null" ||
         parse_bool_word(s) >= 0;
}

}  // namespace

std::string yaml_text(const std::string& s) {
  if (s.empty()) return "null";
  const bool plain = std::all_of(s.begin(), s.end(), plain_char) && !reads_as_non_string(s);
  return plain ? s : yaml_quoted(s);
}

std::string yaml_quoted(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[(c >> 4) & 0xf];
      out += hex[c & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string yaml_double(double d) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  std::string s(buf, end);
  const size_t e = s.find('e');
  if (s.find('.') == std::string::npos) s.insert(e == std::string::npos ? s.size() : e, ".0");
  return s;
}

}  // namespace tune
