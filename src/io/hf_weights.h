// Loads an HF model directory's weights (model.safetensors or sharded with model.safetensors.index.json).
#pragma once
#include <filesystem>

#include "model/model_config.h"
#include "model/weights.h"

namespace tune {

// Every expected key must exist with the expected shape; any dtype the reader knows is converted to fp32.
// lm_head.weight is accepted only when it equals the tied embedding's shape (and ignored, since Gemma ties).
ModelWeights load_hf_weights(const std::filesystem::path& model_dir, const ModelConfig& cfg);

// Writes weights as a single model.safetensors in `dtype` (used by tests and the demo model generator).
void save_hf_weights(const std::filesystem::path& model_dir, const ModelConfig& cfg, const ModelWeights& w,
                     DType dtype);

}  // namespace tune
