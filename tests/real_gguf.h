// The real GGUF models the gguf tests read (scripts/fetch_models.sh puts them in TUNE_GGUF_DIR, default
// ~/.cache/tune/gguf). Absent: the test skips, or fails when TUNE_REQUIRE_REAL_MODELS=1 (scripts/test.sh sets it).
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace tune::test {

inline constexpr const char* kSmolLM2Gguf = "SmolLM2-135M-Instruct.Q4_1.gguf";
inline constexpr const char* kGemma3Gguf = "gemma-3-270m-q4_k_m.gguf";

inline std::filesystem::path real_gguf_path(const std::string& file) {
  const char* dir = std::getenv("TUNE_GGUF_DIR");
  const char* home = std::getenv("HOME");
  const std::filesystem::path base = dir && *dir ? std::filesystem::path(dir)
                                                 : std::filesystem::path(home ? home : "/root") / ".cache/tune/gguf";
  return base / file;
}

inline bool real_models_required() {
  const char* v = std::getenv("TUNE_REQUIRE_REAL_MODELS");
  return v && std::string(v) == "1";
}

}  // namespace tune::test

// Declares `const std::filesystem::path var` = the real model `file`; skips (or fails, see above) when it is absent.
#define TUNE_REAL_GGUF(var, file)                                                                            \
  const std::filesystem::path var = ::tune::test::real_gguf_path(file);                                       \
  if (!std::filesystem::exists(var)) {                                                                       \
    if (::tune::test::real_models_required()) FAIL() << var << " is missing: run scripts/fetch_models.sh";   \
    GTEST_SKIP() << var << " is missing: run scripts/fetch_models.sh";                                       \
  }
