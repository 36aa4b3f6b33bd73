// Loading a Plan: config file -> raw entries -> overrides -> per-key checks -> derived defaults -> cross-key checks.
#include <algorithm>
#include <map>

#include "config/config_file.h"
#include "config/plan.h"
#include "config/plan_checks.h"
#include "config/plan_keys.h"
#include "core/atomic_file.h"
#include "core/error.h"

namespace tune {

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The closest key within a third of the word's length (at least 2 edits), or "".
std::string nearest_key(const std::string& word) {
  std::vector<std::string> names;
  for (const auto& k : plan_keys()) names.push_back(k.name);
  for (const auto& a : plan_key_aliases()) names.push_back(a.old_name);
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& n : names) {
    const size_t d = edit_distance(word, n);
    if (d < best_d) best_d = d, best = n;
  }
  return best;
}

const KeyDef& find_key(const ConfigValue& v) {
  std::string name = v.key;
  for (const auto& a : plan_key_aliases())
    if (a.old_name == name) name = a.name;
  for (const auto& k : plan_keys())
    if (k.name == name) return k;
  const std::string near = nearest_key(v.key);
  fail(v.source, ": unknown key '", v.key, "'", v.where,
       near.empty() ? std::string("; see the resolved plan (tune_plan.yaml) for every valid key")
                    : "; did you mean '" + near + "'?");
}

}  // namespace

ConfigFormat config_format_of(const std::filesystem::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".yaml" || ext == ".yml") return ConfigFormat::Yaml;
  if (ext == ".json") return ConfigFormat::Json;
  fail(file.string(), ": unsupported config format '", ext.empty() ? "(no extension)" : ext,
       "'; give a LLaMA-Factory config ending in .yaml, .yml or .json");
}

Plan parse_plan(std::string_view text, ConfigFormat format, const std::string& source,
                const std::vector<std::string>& overrides) {
  const std::vector<ConfigValue> entries = read_config_entries(text, format, source);
  Plan plan;
  plan.lora_alpha = 0;  // unset until a value arrives; resolved below
  std::map<std::string, std::string> file_key_of;  // current key name -> the spelling used in the file
  for (const auto& v : entries) {
    const KeyDef& key = find_key(v);
    const auto [it, fresh] = file_key_of.emplace(key.name, v.key);
    TUNE_CHECK(fresh, source, ": '", it->second, "' and '", v.key,
               "' are the old and new names of the same key; keep one of them (", key.name, ")");
    key.set(plan, v);
  }
  for (const auto& arg : overrides) {
    const ConfigValue v = read_override(arg);
    find_key(v).set(plan, v);
  }
  resolve_plan_defaults(plan);
  check_plan(plan, source);
  return plan;
}

Plan load_plan(const std::filesystem::path& file, const std::vector<std::string>& overrides) {
  const ConfigFormat format = config_format_of(file);
  TUNE_CHECK(std::filesystem::exists(file), "config file ", file.string(),
             " not found; pass the path of a LLaMA-Factory .yaml or .json config");
  return parse_plan(read_text_file(file), format, file.string(), overrides);
}

std::vector<std::string> lora_target_modules(const Plan& plan) {
  if (plan.lora_target.size() == 1 && plan.lora_target[0] == "all") return lora_module_names();
  return plan.lora_target;
}

}  // namespace tune
