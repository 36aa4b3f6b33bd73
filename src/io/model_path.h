// model_name_or_path as tune.cpp reads it: a Hugging Face model folder. A file (a .gguf, a lone .safetensors) is
// refused with one error that says what is and is not supported.
#pragma once
#include <filesystem>
#include <string>

namespace tune {

// Error (prefixed with `where`) when path is an existing regular file; a folder, or a path that does not exist
// (reported later by the loader), passes.
void check_model_path(const std::filesystem::path& path, const std::string& where);

}  // namespace tune
