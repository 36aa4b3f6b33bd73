// A trained LoRA adapter as a llama.cpp LoRA adapter GGUF (the file convert_lora_to_gguf.py writes, `--lora` loads).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "io/gguf_writer.h"
#include "model/lora.h"
#include "model/model_config.h"

namespace tune {

struct LoraGgufOptions {
  GgmlType type = GgmlType::F32;  // F32 or F16 tensors (convert_lora_to_gguf.py's --outtype f32 / f16)
  std::string name;               // general.name; left out when empty
};

// The adapter as GGUF metadata + tensors: general.architecture, general.type = "adapter", adapter.type = "lora",
// adapter.lora.alpha = config.lora_alpha, and per targeted module "<base GGUF tensor>.lora_a" (A [r, in] stored with
// ne = [in, r]; the base tensor named by io/gguf_model's gguf_tensor_name, "blk.3.attn_q.weight") and ".lora_b" (B [out, r], ne = [r, out]); for a llama-arch model B's rows are permuted as the
// base's Q/K rows are. llama.cpp scales every module by alpha / r; a module whose scaling differs (rslora,
// rank_pattern, alpha_pattern) has the ratio folded into its B, so the product is the same. The returned writer
// refers to `storage`, which must outlive it.
GgufWriter lora_gguf(const LoraAdapter& adapter, const ModelConfig& model, const LoraGgufOptions& options,
                     std::vector<std::vector<std::byte>>& storage);

// lora_gguf written atomically to `path`.
void write_lora_gguf(const std::filesystem::path& path, const LoraAdapter& adapter, const ModelConfig& model,
                     const LoraGgufOptions& options);

// `tune export` with export_lora_gguf: loads the base's spec and the PEFT adapter folder (validated against it) and
// writes the GGUF adapter to `out` (its folder is created). Returns the number of modules written.
size_t export_lora_gguf(const std::filesystem::path& model, const std::filesystem::path& adapter_dir,
                        const std::filesystem::path& out, const LoraGgufOptions& options);

}  // namespace tune
