// Python float repr / round and json.dumps / json.loads / str() equivalents over nlohmann::ordered_json.
#include "core/py_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/error.h"

namespace tune {
namespace {

using Json = nlohmann::ordered_json;

// Placeholders that stand in for Python's non-standard literals while nlohmann parses the text. A JSON string can
// only hold a NUL through a \u0000 escape, which Python's json.dumps output of trainer files never contains.
constexpr std::string_view kNanMark = std::string_view("\0py:NaN", 7);
constexpr std::string_view kInfMark = std::string_view("\0py:Infinity", 12);
constexpr std::string_view kNegInfMark = std::string_view("\0py:-Infinity", 13);

// Decodes one UTF-8 code point at s[i], advancing i; malformed bytes decode to U+FFFD (one byte consumed).
char32_t next_code_point(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  int len = 0;
  char32_t cp = 0;
  if (b0 < 0x80) {
    ++i;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07;
  } else {
    ++i;
    return 0xFFFD;
  }
  if (i + static_cast<size_t>(len) > s.size()) {
    ++i;
    return 0xFFFD;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  i += static_cast<size_t>(len);
  return cp;
}

void append_u_escape(std::string& out, unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "\\u%04x", v);
  out += buf;
}

// json.dumps string literal with ensure_ascii=True.
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const char32_t cp = next_code_point(s, i);
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (cp >= 0x10000) {  // outside the BMP: a UTF-16 surrogate pair, as Python writes it
          const unsigned v = static_cast<unsigned>(cp) - 0x10000;
          append_u_escape(out, 0xD800 + (v >> 10));
          append_u_escape(out, 0xDC00 + (v & 0x3FF));
        } else if (cp < 0x20 || cp > 0x7E) {  // json.dumps escapes everything outside ' '..'~'
          append_u_escape(out, static_cast<unsigned>(cp));
        } else {
          out += static_cast<char>(cp);
        }
    }
  }
  return out + "\"";
}

std::string json_float(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  return py_float_repr(x);
}

void dump(const Json& v, const PyJsonStyle& style, int depth, std::string& out) {
  const bool pretty = style.indent >= 0;
  const std::string item_sep = pretty ? "," : ", ";
  auto newline = [&](int level) {
    if (pretty) out += "\n" + std::string(static_cast<size_t>(style.indent * level), ' ');
  };
  switch (v.type()) {
    case Json::value_t::object: {
      if (v.empty()) {
        out += "{}";
        return;
      }
      std::vector<const std::string*> keys;
      for (auto it = v.begin(); it != v.end(); ++it) keys.push_back(&it.key());
      if (style.sort_keys)
        std::sort(keys.begin(), keys.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
      out += "{";
      for (size_t k = 0; k < keys.size(); ++k) {
        if (k) out += item_sep;
        newline(depth + 1);
        out += json_string(*keys[k]) + ": ";
        dump(v.at(*keys[k]), style, depth + 1, out);
      }
      newline(depth);
      out += "}";
      return;
    }
    case Json::value_t::array: {
      if (v.empty()) {
        out += "[]";
        return;
      }
      out += "[";
      for (size_t k = 0; k < v.size(); ++k) {
        if (k) out += item_sep;
        newline(depth + 1);
        dump(v[k], style, depth + 1, out);
      }
      newline(depth);
      out += "]";
      return;
    }
    case Json::value_t::string: out += json_string(v.get_ref<const std::string&>()); return;
    case Json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return;
    case Json::value_t::null: out += "null"; return;
    case Json::value_t::number_integer: out += std::to_string(v.get<int64_t>()); return;
    case Json::value_t::number_unsigned: out += std::to_string(v.get<uint64_t>()); return;
    case Json::value_t::number_float: out += json_float(v.get<double>()); return;
    default: fail("py_json_dumps: cannot write a JSON value of type ", v.type_name());
  }
}

// Replaces the bare NaN / Infinity / -Infinity literals (outside strings) with quoted placeholders.
std::string mark_py_literals(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) out += text[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    auto starts = [&](std::string_view lit) { return text.substr(i, lit.size()) == lit; };
    auto put_mark = [&](std::string_view mark, size_t consumed) {
      out += "\"\\u0000" + std::string(mark.substr(1)) + "\"";
      i += consumed - 1;
    };
    if (c == '"') {
      in_string = true;
      out += c;
    } else if (starts("NaN")) {
      put_mark(kNanMark, 3);
    } else if (starts("-Infinity")) {
      put_mark(kNegInfMark, 9);
    } else if (starts("Infinity")) {
      put_mark(kInfMark, 8);
    } else {
      out += c;
    }
  }
  return out;
}

void restore_py_literals(Json& v) {
  if (v.is_structured()) {
    for (auto& child : v) restore_py_literals(child);
  } else if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s == kNanMark) v = std::nan("");
    else if (s == kInfMark) v = HUGE_VAL;
    else if (s == kNegInfMark) v = -HUGE_VAL;
  }
}

// Python repr of a str: single quotes unless the text holds ' and no ".
std::string py_str_repr(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const char quote = has_single && s.find('"') == std::string_view::npos ? '"' : '\'';
  std::string out(1, quote);
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\' || c == quote) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7F) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + quote;
}

}  // namespace

namespace {

// Python's repr layout for the shortest round-trip digits in `sci` (std::to_chars scientific form, "-1.5e-05").
std::string repr_from_scientific(std::string_view sci) {
  const size_t e_pos = sci.find('e');
  const bool negative = sci[0] == '-';
  std::string digits;
  for (const char c : sci.substr(negative ? 1 : 0, e_pos - (negative ? 1 : 0)))
    if (c != '.') digits += c;
  int exp10 = 0;
  std::from_chars(sci.data() + e_pos + 1 + (sci[e_pos + 1] == '+'), sci.data() + sci.size(), exp10);
  std::string out;
  if (exp10 >= -4 && exp10 < 16) {
    if (exp10 < 0) {
      out = "0." + std::string(static_cast<size_t>(-exp10 - 1), '0') + digits;
    } else {
      const auto whole = static_cast<size_t>(exp10) + 1;
      if (digits.size() < whole) digits.append(whole - digits.size(), '0');
      const std::string frac = digits.substr(whole);
      out = digits.substr(0, whole) + "." + (frac.empty() ? "0" : frac);
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char e[16];
    std::snprintf(e, sizeof e, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
    out += e;
  }
  return negative ? "-" + out : out;
}

template <class F>
std::string float_repr(F x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  if (x == 0) return std::signbit(x) ? "-0.0" : "0.0";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  return repr_from_scientific(std::string_view(buf, static_cast<size_t>(res.ptr - buf)));
}

}  // namespace

std::string py_float_repr(double x) { return float_repr(x); }
std::string py_float_repr(float x) { return float_repr(x); }

double py_round(double x, int ndigits) {
  if (!std::isfinite(x)) return x;
  char buf[512];
  const auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::fixed, ndigits);
  double out = 0.0;
  std::from_chars(buf, res.ptr, out);
  return out;
}

std::string py_format_fixed(double x, int decimals) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[512];
  const auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::fixed, decimals);
  return std::string(buf, res.ptr);
}

std::string py_json_dumps(const nlohmann::ordered_json& value, const PyJsonStyle& style) {
  std::string out;
  dump(value, style, 0, out);
  return out;
}

nlohmann::ordered_json py_json_loads(std::string_view text, const std::string& source) {
  Json v;
  try {
    v = Json::parse(mark_py_literals(text));
  } catch (const nlohmann::json::parse_error& e) {
    fail(source, ": not valid JSON (", e.what(), "); fix or delete the file and run again");
  }
  restore_py_literals(v);
  return v;
}

std::string py_repr(const nlohmann::ordered_json& value) {
  switch (value.type()) {
    case Json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!first) out += ", ";
        first = false;
        out += py_str_repr(it.key()) + ": " + py_repr(it.value());
      }
      return out + "}";
    }
    case Json::value_t::array: {
      std::string out = "[";
      for (size_t k = 0; k < value.size(); ++k) out += (k ? ", " : "") + py_repr(value[k]);
      return out + "]";
    }
    case Json::value_t::string: return py_str_repr(value.get_ref<const std::string&>());
    case Json::value_t::boolean: return value.get<bool>() ? "True" : "False";
    case Json::value_t::null: return "None";
    case Json::value_t::number_integer: return std::to_string(value.get<int64_t>());
    case Json::value_t::number_unsigned: return std::to_string(value.get<uint64_t>());
    case Json::value_t::number_float: return py_float_repr(value.get<double>());
    default: fail("py_repr: cannot print a JSON value of type ", value.type_name());
  }
}

}  // namespace tune
