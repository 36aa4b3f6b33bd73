// Atomic file writes: write to a temp file in the same folder, fsync, rename over the target, fsync the folder.
#pragma once
#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>

namespace tune {

void write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes);
void write_file_atomic(const std::filesystem::path& path, std::string_view text);

// Reads a whole file; throws tune::Error naming the path when it is missing or unreadable.
std::string read_text_file(const std::filesystem::path& path);

}  // namespace tune
