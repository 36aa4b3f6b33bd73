// model_name_or_path as tune.cpp reads it: a Hugging Face model folder or a GGUF file (llama.cpp's format), and the
// loaders of its config and weights that dispatch on which it is. Any other file is refused with one error.
#pragma once
#include <filesystem>
#include <string>

#include "core/dtype.h"
#include "model/model_config.h"
#include "model/weights.h"
#include "text/tokenizer.h"

namespace tune {

// A regular file whose name ends in .gguf.
bool is_gguf_file(const std::filesystem::path& path);

// Error (prefixed with `where`) when path is an existing regular file that is not a .gguf; a folder, a .gguf file, or
// a path that does not exist (reported later by the loader), passes.
void check_model_path(const std::filesystem::path& path, const std::string& where);

// The spec of a model folder's config.json or of a GGUF file's metadata (io/gguf_model.h).
ModelConfig load_model_config(const std::filesystem::path& path, bool exact_gelu = false);
// Its weights, fp32 (a GGUF's dequantized).
ModelWeights load_model_weights(const std::filesystem::path& path, const ModelConfig& cfg);
// The dtype `tune export` writes the merged model in: the folder's stored dtype; a GGUF's F32/F16/BF16, else BF16.
DType model_export_dtype(const std::filesystem::path& path, const ModelConfig& cfg);

// The model's tokenizer: the folder's files (Tokenizer::load) or the GGUF's metadata (text/gguf_tokenizer.h).
Tokenizer load_tokenizer_of(const std::filesystem::path& path, bool use_fast = true);
// load_tokenizer_of plus load_model_tokenizer's check that every id fits the model's embedding.
Tokenizer load_model_tokenizer_of(const std::filesystem::path& path, int model_vocab_size, bool use_fast = true);

}  // namespace tune
