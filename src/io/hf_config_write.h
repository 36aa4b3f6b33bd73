// ModelConfig -> config.json text in the layout HF writes for Gemma (so HF and tune.cpp both load it).
#pragma once
#include <filesystem>
#include <string>

#include "model/model_config.h"

namespace tune {

std::string hf_config_json(const ModelConfig& cfg);
// Writes <model_dir>/config.json atomically (creating the folder).
void save_hf_config(const std::filesystem::path& model_dir, const ModelConfig& cfg);

}  // namespace tune
