// Read-only memory maps of whole files, shared by the safetensors and GGUF readers.
#pragma once
#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>

namespace tune {

struct MappedFile {
  std::shared_ptr<const void> owner;  // unmaps when the last holder lets go; null for an empty file
  std::span<const std::byte> bytes;   // the whole file
};

// Maps `path` read-only. tune::Error naming the path when it is missing, unreadable, a folder or not a regular file;
// `expected` ("a .gguf file") completes the message for the last two.
MappedFile map_file(const std::filesystem::path& path, std::string_view expected);

// Bytes already in memory, copied so that the result owns them like a mapping.
MappedFile copy_to_mapping(std::span<const std::byte> bytes);

}  // namespace tune
