// `tune export CONFIG [key=value ...]`: merges the adapters of a LLaMA-Factory config into its base model and writes
// an HF model folder (LLaMA-Factory's `llamafactory-cli export`).
#include <cstdio>

#include "cli/commands.h"
#include "cli/run_config.h"
#include "core/error.h"
#include "export/export_model.h"
#include "text/template.h"

namespace tune::cli {

namespace {

constexpr uint64_t kBytesPerGB = 1'000'000'000;  // HF parses max_shard_size "5GB" as 5 * 10^9 bytes

int run_export(const ParsedArgs& a) {
  const Plan plan = plan_from_args(a);
  TUNE_CHECK(!plan.export_dir.empty(), a.positional[0],
             ": export_dir is missing; set export_dir to the folder the merged model goes to (for example "
             "models/gemma-2b-merged)");
  if (!plan.template_.empty()) Template::get(plan.template_);  // an unknown template name is an error here too
  ExportRequest request;
  request.model_dir = plan.model_name_or_path;
  for (const std::string& dir : plan.adapter_name_or_path) request.adapters.emplace_back(dir);
  request.export_dir = plan.export_dir;
  request.max_shard_bytes = static_cast<uint64_t>(plan.export_size) * kBytesPerGB;
  request.overwrite = plan.overwrite_output_dir;
  request.reward_model = plan.stage == "rm";
  request.config_file = a.positional[0];
  const ExportResult result = export_merged_model(request);
  std::printf("exported %s (%s, %zu adapter%s merged) to %s:\n", plan.model_name_or_path.c_str(),
              std::string(dtype_name(result.dtype)).c_str(), request.adapters.size(),
              request.adapters.size() == 1 ? "" : "s", plan.export_dir.c_str());
  for (const std::string& f : result.files) std::printf("  %s\n", f.c_str());
  return 0;
}

}  // namespace

const CommandSpec& export_command() {
  static const CommandSpec spec{
      "export",
      "merge LoRA adapters into the base model and write an HF model folder",
      "tune export CONFIG.yaml [key=value ...]",
      "CONFIG is a LLaMA-Factory YAML or JSON file: model_name_or_path, adapter_name_or_path (a comma list, merged\n"
      "in order as PEFT's merge_and_unload does), export_dir, export_size (GB per safetensors shard, default 5),\n"
      "template, stage (rm also copies value_head.safetensors). Writes config.json, model.safetensors (or shards with\n"
      "model.safetensors.index.json), generation_config.json, the tokenizer files and, for reward models,\n"
      "value_head.safetensors, in the dtype the base checkpoint is stored in. A non-empty export_dir is replaced only\n"
      "with overwrite_output_dir: true.",
      {},
      1,
      kMaxOverrides,
      run_export,
      true};
  return spec;
}

}  // namespace tune::cli
