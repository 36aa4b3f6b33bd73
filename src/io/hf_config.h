// config.json -> ModelConfig, following current HF rules for Gemma (see docs/architecture.md "Activation").
#pragma once
#include <filesystem>
#include <string_view>

#include "model/model_config.h"

namespace tune {

// Parses config.json text. `source` names the file in errors. exact_gelu forces erf GELU (HF 4.38 behaviour).
ModelConfig parse_hf_config(std::string_view json_text, const std::string& source, bool exact_gelu = false);
// Reads <model_dir>/config.json.
ModelConfig load_hf_config(const std::filesystem::path& model_dir, bool exact_gelu = false);

}  // namespace tune
