// The table of config keys: for each, its group, how a raw value is checked and stored, and how it is printed.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "config/config_value.h"
#include "config/plan.h"

namespace tune {

enum class KeyGroup { Model, Method, Dataset, Output, Train, Eval, Generate, Export, Tune };

struct KeyDef {
  std::string name;  // the LLaMA-Factory key
  KeyGroup group;
  std::function<void(Plan&, const ConfigValue&)> set;  // checks the value alone (type, range, allowed words)
  std::function<std::string(const Plan&)> show;        // the stored value as YAML text
  bool is_bool = false;  // takes true/false: on the command line `--key` alone means true (HfArgumentParser)
};

// Every key, grouped in print order.
const std::vector<KeyDef>& plan_keys();

// Old key names accepted in place of the current ones: {old, current}.
struct KeyAlias {
  std::string old_name, name;
};
const std::vector<KeyAlias>& plan_key_aliases();

// The seven projection names a lora_target may list, in model order.
const std::vector<std::string>& lora_module_names();

}  // namespace tune
