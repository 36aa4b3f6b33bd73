// plan_to_yaml: the resolved plan as a grouped, commented YAML file that loads back to the same Plan.
#include <utility>

#include "config/plan.h"
#include "config/plan_keys.h"

namespace tune {

std::string plan_to_yaml(const Plan& plan) {
  const std::pair<KeyGroup, const char*> groups[] = {
      {KeyGroup::Model, "model"},     {KeyGroup::Method, "method"}, {KeyGroup::Dataset, "dataset"},
      {KeyGroup::Output, "output"},   {KeyGroup::Train, "train"},   {KeyGroup::Eval, "eval"},
      {KeyGroup::Generate, "generate"}, {KeyGroup::Export, "export"},
      {KeyGroup::Tune, "tune.cpp (keys LLaMA-Factory does not have)"}};
  std::string out =
      "# tune.cpp resolved plan: every config key with the value this run uses, defaults filled in.\n"
      "# Key names are LLaMA-Factory's; run it again with `tune <command> <this file> [key=value ...]`.\n";
  for (const auto& [group, title] : groups) {
    out += "\n### ";
    out += title;
    out += "\n";
    for (const auto& key : plan_keys())
      if (key.group == group) {
        out += key.name + ": " + key.show(plan) + "\n";
        if (key.name == "template" && !plan.template_origin.empty())
          out += "#   (the config names none; " + plan.template_origin + ")\n";
      }
  }
  return out;
}

}  // namespace tune
