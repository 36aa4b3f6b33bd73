// Dtype rule: the export keeps the dtype the checkpoint stores its weights in (model.embed_tokens.weight's dtype).
// LLaMA-Factory v0.5.2 casts to config.json's torch_dtype instead; the two differ only for a checkpoint whose
// config.json misstates its weights, and then keeping the stored precision loses nothing (a warning says so).
#include "export/export_model.h"

#include <cstdio>
#include <utility>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/staged_dir.h"
#include "export/model_dir_files.h"
#include "io/gguf.h"
#include "io/gguf_model.h"
#include "io/model_path.h"
#include "io/peft_adapter.h"
#include "model/merge.h"

namespace tune {
namespace {

namespace fs = std::filesystem;

constexpr const char* kValueHead = "value_head.safetensors";
constexpr const char* kGenerationConfig = "generation_config.json";

// True when `inner` is `outer` or lies inside it.
bool is_within(const fs::path& inner, const fs::path& outer) {
  const fs::path a = fs::weakly_canonical(fs::absolute(inner)), b = fs::weakly_canonical(fs::absolute(outer));
  auto ai = a.begin();
  for (auto bi = b.begin(); bi != b.end(); ++bi, ++ai) {
    if (bi->empty()) continue;  // trailing separator
    if (ai == a.end() || *ai != *bi) return false;
  }
  return true;
}

void check_export_dir(const ExportRequest& r) {
  TUNE_CHECK(!r.export_dir.empty(), "export_dir is not set; set export_dir to the folder the merged model goes to");
  const std::string dir = r.export_dir.string();
  // Replacing export_dir must not take the inputs, the config or the working folder with it.
  std::vector<std::pair<fs::path, const char*>> kept = {{r.model_dir, "the input folder"}};
  for (const fs::path& a : r.adapters) kept.emplace_back(a, "the input folder");
  if (!r.config_file.empty()) kept.emplace_back(r.config_file, "the config file");
  kept.emplace_back(fs::current_path(), "the working folder");
  for (const auto& [path, what] : kept)
    TUNE_CHECK(!is_within(path, r.export_dir), "export_dir ", dir, " is or contains ", what, " ", path.string(),
               "; choose a new folder for the merged model");
  if (!fs::exists(r.export_dir)) return;
  TUNE_CHECK(fs::is_directory(r.export_dir), "export_dir ", dir, " exists and is not a folder; choose another path");
  TUNE_CHECK(fs::is_empty(r.export_dir) || r.overwrite, "export_dir ", dir,
             " exists and is not empty; set overwrite_output_dir: true to replace it, or choose another export_dir");
}

// value_head.safetensors of the last adapter folder (the model folder without adapters), or empty when none.
fs::path value_head_source(const ExportRequest& r, int hidden_size) {
  const fs::path file = (r.adapters.empty() ? r.model_dir : r.adapters.back()) / kValueHead;
  if (!fs::exists(file)) {
    TUNE_CHECK(!r.reward_model, "stage rm exports a reward model, but ", file.string(),
               " does not exist; pass the adapter folder tune train wrote for the reward model (it holds ", kValueHead,
               "), or set stage to sft");
    return {};
  }
  load_value_head(file, hidden_size);  // validates it before it is copied
  return file;
}

}  // namespace

ExportResult export_merged_model(const ExportRequest& r) {
  check_export_dir(r);
  const ModelConfig cfg = load_model_config(r.model_dir);
  const bool gguf = is_gguf_file(r.model_dir);
  TUNE_CHECK(cfg.names.ignored_prefixes.empty(), r.model_dir.string(), ": exporting a ", cfg.model_type,
             " checkpoint is not supported yet: tune.cpp loads only its language model, and the export would drop the "
             "rest (the vision tower); export from a text-only (", cfg.model_type, "_text) checkpoint");
  ExportResult result;
  result.dtype = model_export_dtype(r.model_dir, cfg);
  torch_dtype_name(result.dtype);  // only F32, BF16 and F16 checkpoints can be merged and exported
  if (!gguf && result.dtype != cfg.torch_dtype)
    std::fprintf(stderr, "warning: %s/config.json says %s but the weights are stored as %s; exporting %s\n",
                 r.model_dir.c_str(), std::string(torch_dtype_name(cfg.torch_dtype)).c_str(),
                 std::string(dtype_name(result.dtype)).c_str(), std::string(dtype_name(result.dtype)).c_str());

  ModelWeights weights = load_model_weights(r.model_dir, cfg);
  for (const fs::path& dir : r.adapters) {
    const LoraAdapter adapter = load_peft_adapter(dir, cfg);
    const int64_t overflowed = merge_lora(weights, adapter, result.dtype);
    std::fprintf(stderr, "merged adapter %s (r %d, alpha %g%s)\n", dir.c_str(), adapter.config.r,
                 adapter.config.lora_alpha, adapter.config.use_rslora ? ", rslora" : "");
    if (overflowed > 0)
      std::fprintf(stderr,
                   "warning: merging %s overflowed %lld weights beyond the %s range; they are inf in the export (as "
                   "in PEFT's merge_and_unload) and the merged model will give NaN logits; export from a float32 "
                   "checkpoint or check the adapter's weights\n",
                   dir.c_str(), static_cast<long long>(overflowed),
                   std::string(torch_dtype_name(result.dtype)).c_str());
  }
  const fs::path value_head = value_head_source(r, cfg.hidden_size);

  StagedDir out(r.export_dir);
  if (gguf) {
    // The config transformers derives from the GGUF metadata (its defaults fill the rest on load), with the class.
    nlohmann::json config = gguf_hf_config(GgufFile::open(r.model_dir));
    config["architectures"] = {cfg.architecture};
    write_file_atomic(out.path() / "config.json",
                      config_json_with_dtype(config.dump(2), r.model_dir.string(), result.dtype));
  } else {
    const fs::path config_file = r.model_dir / "config.json";
    write_file_atomic(out.path() / "config.json",
                      config_json_with_dtype(read_text_file(config_file), config_file.string(), result.dtype));
  }
  result.files.push_back("config.json");
  for (const std::string& f : save_hf_weights(out.path(), cfg, weights, result.dtype, r.max_shard_bytes))
    result.files.push_back(f);
  if (!gguf && fs::is_regular_file(r.model_dir / kGenerationConfig))
    copy_file_atomic(r.model_dir / kGenerationConfig, out.path() / kGenerationConfig);
  else
    write_file_atomic(out.path() / kGenerationConfig, generation_config_json(cfg));
  result.files.push_back(kGenerationConfig);
  if (gguf)
    std::fprintf(stderr, "note: the tokenizer stays in %s (its GGUF metadata); the export holds the model only, load "
                 "the tokenizer with AutoTokenizer.from_pretrained(folder, gguf_file=...)\n", r.model_dir.c_str());
  else
    for (const std::string& f : copy_tokenizer_files(r.model_dir, out.path())) result.files.push_back(f);
  if (!value_head.empty()) {
    copy_file_atomic(value_head, out.path() / kValueHead);
    result.files.push_back(kValueHead);
  }
  out.commit();
  return result;
}

}  // namespace tune
