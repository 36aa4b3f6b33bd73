// The files of an HF model folder besides the weights, as an exported (merged) model needs them: config.json with
// the export dtype, generation_config.json, and the tokenizer files.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "model/model_config.h"

namespace tune {

// HF's name of a dtype in config.json: "float32", "bfloat16", "float16".
std::string_view torch_dtype_name(DType t);

// The source config.json text with its dtype set to `dtype`: every top-level dtype key it has ("torch_dtype" of
// transformers 4.x, "dtype" of v5) is updated, "torch_dtype" is added after the last key when it has neither; every
// other byte is kept, so numbers stay as the source wrote them (1e-06, 10000.0). Ends with a newline.
std::string config_json_with_dtype(std::string_view source_text, const std::string& source, DType dtype);

// generation_config.json as save_pretrained derives it from a config without one: bos, eos and pad token ids.
std::string generation_config_json(const ModelConfig& cfg);

// Tokenizer files a Gemma folder may hold; each one present in `from` is copied byte for byte to `to`.
// Returns the names copied.
std::vector<std::string> copy_tokenizer_files(const std::filesystem::path& from, const std::filesystem::path& to);

// Copies one file byte for byte (atomically).
void copy_file_atomic(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace tune
