// `--key value` config options -> key=value overrides, keeping the command's own options in place.
#include "cli/config_options.h"

#include <algorithm>
#include <cctype>

#include "config/lf_unsupported_keys.h"
#include "config/plan_keys.h"

namespace tune::cli {

namespace {

enum class KeyKind { None, Value, Bool };

KeyKind config_key_kind(const std::string& key) {
  for (const auto& k : plan_keys())
    if (k.name == key) return k.is_bool ? KeyKind::Bool : KeyKind::Value;
  for (const auto& a : plan_key_aliases())
    if (a.old_name == key) return config_key_kind(a.name);
  if (const UnsupportedLfKey* lf = find_unsupported_lf_key(key))
    return is_bool_lf_key(*lf) ? KeyKind::Bool : KeyKind::Value;
  return KeyKind::None;
}

// HfArgumentParser's string_to_bool words -> "true"/"false"; anything else -> "".
std::string hf_bool_word(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* w : {"yes", "true", "t", "y", "1"})
    if (s == w) return "true";
  for (const char* w : {"no", "false", "f", "n", "0"})
    if (s == w) return "false";
  return "";
}

const OptionSpec* find_option(const CommandSpec& spec, const std::string& name) {
  for (const auto& o : spec.options)
    if (o.name == name) return &o;
  return nullptr;
}

[[noreturn]] void unknown_option(const CommandSpec& spec, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& o : spec.options) names.push_back(o.name);
  for (const auto& k : plan_keys()) names.push_back(k.name);
  const std::string near = nearest(name, names);
  throw UsageError("unknown option --" + name + " for 'tune " + spec.name + "' (neither an option nor a config key)" +
                   (near.empty() ? "" : "; did you mean --" + near + "?"));
}

}  // namespace

std::vector<std::string> config_options_to_overrides(const CommandSpec& spec, const std::vector<std::string>& argv) {
  std::vector<std::string> options;  // the command's own options (and their values), --help
  struct Positional {
    std::string text;
    bool from_option;
  };
  std::vector<Positional> positional;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--help" || a == "-h") {
      options.push_back(a);
      continue;
    }
    if (a.rfind("--", 0) != 0 || a.size() == 2) {
      positional.push_back({a, false});
      continue;
    }
    const size_t eq = a.find('=');
    const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (const OptionSpec* opt = find_option(spec, name)) {
      options.push_back(a);
      if (!opt->value_name.empty() && eq == std::string::npos && i + 1 < argv.size()) options.push_back(argv[++i]);
      continue;
    }
    std::string key = name;
    std::replace(key.begin(), key.end(), '-', '_');
    KeyKind kind = config_key_kind(key);
    std::string value;
    if (kind == KeyKind::None && key.rfind("no_", 0) == 0 && config_key_kind(key.substr(3)) == KeyKind::Bool) {
      if (eq != std::string::npos)
        throw UsageError("option --" + name + " takes no value; it sets " + key.substr(3) + " to false");
      positional.push_back({key.substr(3) + "=false", true});
      continue;
    }
    if (kind == KeyKind::None) unknown_option(spec, name);
    if (eq != std::string::npos) {
      value = a.substr(eq + 1);
      if (kind == KeyKind::Bool && !hf_bool_word(value).empty()) value = hf_bool_word(value);
    } else if (kind == KeyKind::Bool) {
      value = "true";
      if (i + 1 < argv.size() && !hf_bool_word(argv[i + 1]).empty()) value = hf_bool_word(argv[++i]);
    } else {
      if (i + 1 >= argv.size() || argv[i + 1].rfind("--", 0) == 0)
        throw UsageError("option --" + name + " needs a value (--" + name + " VALUE or --" + name + "=VALUE)");
      value = argv[++i];
    }
    positional.push_back({key + "=" + value, true});
  }
  // CONFIG (the first positional the user wrote as one) goes first, the overrides keep their order after it.
  const auto config = std::find_if(positional.begin(), positional.end(), [](const auto& p) { return !p.from_option; });
  if (config != positional.end()) std::rotate(positional.begin(), config, config + 1);
  for (const auto& p : positional) options.push_back(p.text);
  return options;
}

}  // namespace tune::cli
