// `tune export`: a base model with its LoRA adapters merged in, written as a standard HF model folder.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "io/hf_weights.h"

namespace tune {

struct ExportRequest {
  std::filesystem::path model_dir;                // HF model folder (config.json, safetensors, tokenizer files)
  std::vector<std::filesystem::path> adapters;    // PEFT adapter folders, merged in this order
  std::filesystem::path export_dir;               // created; must not exist or be empty unless overwrite
  uint64_t max_shard_bytes = kNoShardLimit;       // per safetensors shard (LLaMA-Factory: export_size GB = 1e9 B)
  bool overwrite = false;                         // replace a non-empty export_dir
  bool reward_model = false;                      // stage rm: value_head.safetensors must exist and is copied
  std::filesystem::path config_file;              // the config asking for the export, if any: never replaced
};

struct ExportResult {
  DType dtype = DType::F32;         // the weights' dtype: the checkpoint's stored dtype
  std::vector<std::string> files;   // names written into export_dir
};

// Loads the model, merges every adapter as PEFT's merge_and_unload does (rounding to the stored dtype after each
// adapter), and writes config.json (dtype set to the stored dtype), the weights (sharded like save_pretrained),
// generation_config.json (copied, else derived from config.json), the tokenizer files, and value_head.safetensors
// when the last adapter folder (or the model folder, without adapters) has one. Everything is written into a temp
// folder next to export_dir and renamed into place at the end: an error or a kill leaves export_dir untouched.
// Problems throw tune::Error naming the file and the fix.
ExportResult export_merged_model(const ExportRequest& request);

}  // namespace tune
