// LLaMA-Factory / HF TrainingArguments keys that tune.cpp does not implement: their names, the values that leave the
// feature off (accepted with a warning) and what the feature does (for the message).
#pragma once
#include <string>
#include <vector>

#include "config/config_value.h"

namespace tune {

struct UnsupportedLfKey {
  std::string name;
  std::vector<std::string> off;  // values meaning "not used" (LF's default or the disabled value); "null" for None
  std::string feature;           // what LF does with it, for the message
};

// Every such key, sorted by name. None of them is a plan key.
const std::vector<UnsupportedLfKey>& unsupported_lf_keys();

// The entry named `name`, or nullptr.
const UnsupportedLfKey* find_unsupported_lf_key(const std::string& name);

// True when v (the user's value for `key`) is one of key.off: null, a bool word, a number (compared as a number) or a
// word (compared ignoring case).
bool leaves_feature_off(const UnsupportedLfKey& key, const ConfigValue& v);

// True when the key takes true/false in LF (its off value is a bool word), so `--key` alone means true.
bool is_bool_lf_key(const UnsupportedLfKey& key);

}  // namespace tune
