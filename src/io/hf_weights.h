// Loads an HF model directory's weights (model.safetensors or sharded with model.safetensors.index.json).
#pragma once
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "model/model_config.h"
#include "model/weights.h"

namespace tune {

// Every key of the spec's role list (model/weights.h) must exist with the expected shape; any dtype the reader knows
// is converted to fp32. With tied embeddings a lm_head.weight alias of the embedding's shape is ignored; tensors under
// spec.names.ignored_prefixes (a vision tower) are skipped; any other extra tensor is an error. A checkpoint may use
// one of spec.names.prefix_aliases instead of the spec's tensor prefix.
ModelWeights load_hf_weights(const std::filesystem::path& model_dir, const ModelConfig& cfg);

// The dtype the checkpoint stores its weights in (that of the token embedding; the header is read, not the data).
DType stored_weights_dtype(const std::filesystem::path& model_dir, const ModelConfig& cfg);

inline constexpr uint64_t kNoShardLimit = std::numeric_limits<uint64_t>::max();

// Writes weights in `dtype` the way transformers 5.x save_pretrained(max_shard_size=max_shard_bytes) writes a model
// it loaded: tensors in "dot natural" key order (no tied lm_head.weight) fill shards of at most max_shard_bytes (a
// bigger tensor gets a shard of its own); one shard is model.safetensors, several are
// model-0000i-of-0000N.safetensors plus model.safetensors.index.json ({"metadata": {"total_parameters", "total_size"}, "weight_map"}). Returns the file
// names written, in order.
std::vector<std::string> save_hf_weights(const std::filesystem::path& model_dir, const ModelConfig& cfg,
                                         const ModelWeights& w, DType dtype, uint64_t max_shard_bytes = kNoShardLimit);

}  // namespace tune
