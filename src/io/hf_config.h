// config.json -> ModelSpec for the supported families (model/families; see docs/architecture.md "Model families").
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
