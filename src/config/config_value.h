// One raw config value (from YAML, JSON or a key=value override), its typed reads with messages, and the reverse:
// typed values written back as YAML scalars.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tune {

struct ConfigValue {
  std::string key;
  std::vector<std::string> items;  // one item for a scalar, any number for a list
  bool is_list = false;
  bool is_null = false;    // YAML null / ~ / empty, JSON null
  bool quoted = false;     // a quoted YAML scalar or a JSON string: never read as a bool or null word
  std::string source;      // "config.yaml" or "command line"
  std::string where;       // " (line 3)", " (in 'lr=1')" or "": appended after the problem in messages

  // The value as the user wrote it, for messages: "abc", "[a, b]" or "null".
  std::string text() const;
};

// Throws tune::Error: "<source>: <key> must be <must_be>, got '<text>'<where>".
[[noreturn]] void fail_value(const ConfigValue& v, const std::string& must_be);

// Typed reads. Each names the expectation in its error ("a positive integer", "true or false", ...).
bool value_bool(const ConfigValue& v);
int64_t value_int(const ConfigValue& v, const std::string& must_be);  // any whole number written as digits
double value_double(const ConfigValue& v, const std::string& must_be);  // finite decimal or exponent form
std::string value_string(const ConfigValue& v);                        // null -> ""
// A YAML/JSON list or a comma list ("q_proj, v_proj"), items trimmed; null -> empty; empty items are an error.
std::vector<std::string> value_list(const ConfigValue& v);

// true/false/yes/no/on/off in any case (YAML 1.1 as PyYAML reads LLaMA-Factory files) -> 1/0; else -1.
int parse_bool_word(const std::string& s);

// A string as a YAML scalar: plain when any YAML reader gives back the same string, double-quoted otherwise
// (bool/null/number look-alikes, spaces, YAML punctuation); "" -> null.
std::string yaml_text(const std::string& s);
// s double-quoted with YAML escapes, always.
std::string yaml_quoted(const std::string& s);
// The shortest text that reads back as exactly d, always with a '.' so YAML 1.1 readers see a float: 1.0e-06, 3.0.
std::string yaml_double(double d);

}  // namespace tune
