// model_name_or_path: the folder-or-GGUF check and the loaders that dispatch on it.
#include "io/model_path.h"

#include "core/error.h"
#include "io/gguf.h"
#include "io/gguf_model.h"
#include "io/hf_config.h"
#include "io/hf_weights.h"
#include "text/gguf_tokenizer.h"

namespace tune {

namespace fs = std::filesystem;

bool is_gguf_file(const fs::path& path) { return path.extension() == ".gguf" && fs::is_regular_file(path); }

void check_model_path(const fs::path& path, const std::string& where) {
  if (!fs::is_regular_file(path) || is_gguf_file(path)) return;
  fail(where, ": model_name_or_path ", path.string(), " is a file, not a model folder or a .gguf file; tune.cpp "
       "reads Hugging Face model folders (config.json, the weights as *.safetensors, one file or sharded with "
       "model.safetensors.index.json, and the tokenizer files) and GGUF files (architectures ",
       supported_gguf_architectures(), "). Set model_name_or_path to the folder that holds these files or to the "
       ".gguf file");
}

ModelConfig load_model_config(const fs::path& path, bool exact_gelu) {
  if (is_gguf_file(path)) return gguf_model_config(GgufFile::open(path), exact_gelu);
  return load_hf_config(path, exact_gelu);
}

ModelWeights load_model_weights(const fs::path& path, const ModelConfig& cfg) {
  if (is_gguf_file(path)) return load_gguf_weights(GgufFile::open(path), cfg);
  return load_hf_weights(path, cfg);
}

DType model_export_dtype(const fs::path& path, const ModelConfig& cfg) {
  if (is_gguf_file(path)) return gguf_export_dtype(GgufFile::open(path));
  return stored_weights_dtype(path, cfg);
}

Tokenizer load_tokenizer_of(const fs::path& path, bool use_fast) {
  if (is_gguf_file(path)) return tokenizer_from_gguf(GgufFile::open(path));
  return Tokenizer::load(path, use_fast);
}

Tokenizer load_model_tokenizer_of(const fs::path& path, int model_vocab_size, bool use_fast) {
  if (is_gguf_file(path)) return load_gguf_model_tokenizer(GgufFile::open(path), model_vocab_size);
  return load_model_tokenizer(path, model_vocab_size, use_fast);
}

}  // namespace tune
