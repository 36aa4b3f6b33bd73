// Loading a Plan: config file -> raw entries -> overrides -> per-key checks -> a GGUF model's template -> derived
// defaults -> cross-key checks.
#include <algorithm>
#include <cstdio>
#include <map>

#include "config/config_file.h"
#include "config/lf_unsupported_keys.h"
#include "config/plan.h"
#include "config/plan_checks.h"
#include "config/plan_keys.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/nearest_name.h"
#include "io/gguf.h"
#include "text/gguf_template.h"

namespace tune {

namespace {

// The closest key (tune.cpp's, or an LF key it names as unsupported) within a third of the word's length (at least
// 2 edits), or "".
std::string nearest_key(const std::string& word) {
  std::vector<std::string> names;
  for (const auto& k : plan_keys()) names.push_back(k.name);
  for (const auto& a : plan_key_aliases()) names.push_back(a.old_name);
  for (const auto& k : unsupported_lf_keys()) names.push_back(k.name);
  return nearest_name(word, names);
}

// The key definition for v, or nullptr for a LLaMA-Factory key tune.cpp does not implement whose value leaves the
// feature off (then a warning is added). Unknown keys and unsupported features in use -> tune::Error.
const KeyDef* find_key(const ConfigValue& v, std::vector<std::string>& warnings) {
  std::string name = v.key;
  for (const auto& a : plan_key_aliases())
    if (a.old_name == name) name = a.name;
  for (const auto& k : plan_keys())
    if (k.name == name) return &k;
  if (const UnsupportedLfKey* lf = find_unsupported_lf_key(v.key)) {
    const std::string what = cat("`", v.key, "` is a LLaMA-Factory key that tune.cpp does not support yet (in ",
                                 "LLaMA-Factory it ", lf->feature, ")");
    TUNE_CHECK(leaves_feature_off(*lf, v), v.source, ": ", what, "; got '", v.text(), "'", v.where,
               "; remove the key to train without it");
    warnings.push_back(cat(v.source, ": ", what, "; ignored, since '", v.text(), "'", v.where, " leaves it off"));
    return nullptr;
  }
  const std::string near = nearest_key(v.key);
  fail(v.source, ": unknown key '", v.key, "'", v.where,
       near.empty() ? std::string("; see the resolved plan (tune_plan.yaml) for every valid key")
                    : "; did you mean '" + near + "'?");
}

// report_to names integrations (HF's wandb, tensorboard, ...; "all" = every installed one); tune.cpp has none, so
// anything but none is said out loud instead of silently doing nothing.
void warn_report_to(const Plan& plan, const std::string& source, std::vector<std::string>& warnings) {
  std::vector<std::string> named;
  for (const auto& r : plan.report_to)
    if (r != "none") named.push_back(r);
  if (named.empty()) return;
  std::string list;
  for (const auto& r : named) list += (list.empty() ? "" : ", ") + r;
  warnings.push_back(cat(source, ": report_to: ", list,
                         " is not supported: tune.cpp has no reporting integrations and sends nothing anywhere; the "
                         "metrics are in output_dir/trainer_log.jsonl and trainer_state.json (plot_loss: true draws "
                         "them); set report_to: none to silence this"));
}

// A GGUF model whose config names no template gets the one its file's chat format matches (text/gguf_template.h).
void choose_template_for_gguf(Plan& plan) {
  const std::filesystem::path model = plan.model_name_or_path;
  if (!plan.template_.empty() || model.extension() != ".gguf" || !std::filesystem::is_regular_file(model)) return;
  if (auto choice = choose_gguf_template(GgufFile::open(model))) {
    plan.template_ = choice->name;
    plan.template_origin = choice->reason;
  }
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
                const std::vector<std::string>& overrides, std::vector<std::string>* warnings) {
  const std::vector<ConfigValue> entries = read_config_entries(text, format, source);
  std::vector<std::string> notes;
  Plan plan;
  plan.lora_alpha = 0;  // unset until a value arrives; resolved below
  std::map<std::string, std::string> file_key_of;  // current key name -> the spelling used in the file
  for (const auto& v : entries) {
    const KeyDef* key = find_key(v, notes);
    if (!key) continue;
    const auto [it, fresh] = file_key_of.emplace(key->name, v.key);
    TUNE_CHECK(fresh, source, ": '", it->second, "' and '", v.key,
               "' are the old and new names of the same key; keep one of them (", key->name, ")");
    key->set(plan, v);
  }
  for (const auto& arg : overrides) {
    const ConfigValue v = read_override(arg);
    if (const KeyDef* key = find_key(v, notes)) key->set(plan, v);
  }
  choose_template_for_gguf(plan);
  resolve_plan_defaults(plan);
  check_plan(plan, source);
  warn_report_to(plan, source, notes);
  if (warnings)
    warnings->insert(warnings->end(), notes.begin(), notes.end());
  else
    for (const auto& n : notes) std::fprintf(stderr, "warning: %s\n", n.c_str());
  return plan;
}

Plan load_plan(const std::filesystem::path& file, const std::vector<std::string>& overrides,
               std::vector<std::string>* warnings) {
  const ConfigFormat format = config_format_of(file);
  TUNE_CHECK(std::filesystem::exists(file), "config file ", file.string(),
             " not found; pass the path of a LLaMA-Factory .yaml or .json config");
  return parse_plan(read_text_file(file), format, file.string(), overrides, warnings);
}

std::vector<std::string> lora_target_modules(const Plan& plan) {
  if (plan.lora_target.size() == 1 && plan.lora_target[0] == "all") return lora_module_names();
  return plan.lora_target;
}

}  // namespace tune
