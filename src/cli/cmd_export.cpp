// `tune export CONFIG [key=value ...]`: merges the adapters of a LLaMA-Factory config into its base model and writes
// an HF model folder (LLaMA-Factory's `llamafactory-cli export`).
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/run_config.h"
#include "core/error.h"
#include "export/export_model.h"
#include "export/lora_gguf.h"
#include "text/template.h"

namespace tune::cli {

namespace {

constexpr uint64_t kBytesPerGB = 1'000'000'000;  // HF parses max_shard_size "5GB" as 5 * 10^9 bytes

// export_lora_gguf: the one adapter as a llama.cpp LoRA adapter GGUF.
void run_export_lora_gguf(const Plan& plan, const std::string& config_file) {
  TUNE_CHECK(plan.adapter_name_or_path.size() == 1, config_file, ": export_lora_gguf writes one adapter, but "
             "adapter_name_or_path names ", plan.adapter_name_or_path.size(),
             "; set adapter_name_or_path to the one adapter folder (llama.cpp takes several --lora files)");
  LoraGgufOptions options;
  options.type = plan.export_lora_gguf_type == "f16" ? GgmlType::F16 : GgmlType::F32;
  options.name = std::filesystem::path(plan.adapter_name_or_path[0]).filename().string();
  const size_t modules =
      export_lora_gguf(plan.model_name_or_path, plan.adapter_name_or_path[0], plan.export_lora_gguf, options);
  std::printf("exported %s as a llama.cpp LoRA adapter (%zu modules, %s) to %s\n",
              plan.adapter_name_or_path[0].c_str(), modules, plan.export_lora_gguf_type.c_str(),
              plan.export_lora_gguf.c_str());
  if (plan.stage == "rm")
    std::printf("  (llama.cpp has no value head: the file holds the LoRA of the decoder only)\n");
}

int run_export(const ParsedArgs& a) {
  const Plan plan = plan_from_args(a);
  TUNE_CHECK(!plan.export_dir.empty() || !plan.export_lora_gguf.empty(), a.positional[0],
             ": export_dir is missing; set export_dir to the folder the merged model goes to (for example "
             "models/gemma-2b-merged), or export_lora_gguf to a .gguf file for the adapter alone");
  if (!plan.template_.empty()) Template::get(plan.template_);  // an unknown template name is an error here too
  if (!plan.export_lora_gguf.empty()) run_export_lora_gguf(plan, a.positional[0]);
  if (plan.export_dir.empty()) return 0;
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
      "with overwrite_output_dir: true.\n"
      "export_lora_gguf: FILE.gguf (tune.cpp's key) also or instead writes the one adapter as a llama.cpp LoRA adapter\n"
      "GGUF (llama-cli --lora FILE.gguf with the base model's GGUF), tensors export_lora_gguf_type f32 (default) or\n"
      "f16.",
      {},
      1,
      kMaxOverrides,
      run_export,
      true};
  return spec;
}

}  // namespace tune::cli
