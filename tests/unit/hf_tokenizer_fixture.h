// The tokenizer.json fixtures of tests/data/hf_tokenizer as model folders: the real tokenizers are stored gzipped,
// so their folder is a per-process copy with tokenizer.json inflated (zlib), removed when the test program ends.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

namespace tune_test {

inline const std::filesystem::path kHfTokenizers = std::filesystem::path(TUNE_TEST_DATA) / "hf_tokenizer";

inline nlohmann::json read_json_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return nlohmann::json::parse(s.str());
}

// The folder to load the fixture `name` from.
inline std::filesystem::path hf_tokenizer_folder(const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path src = kHfTokenizers / name;
  if (!fs::exists(src / "tokenizer.json.gz")) return src;
  static std::map<std::string, fs::path> inflated;
  if (auto it = inflated.find(name); it != inflated.end()) return it->second;
  const fs::path dir = fs::temp_directory_path() / ("tune_test_hf_tokenizer_" + std::to_string(::getpid())) / name;
  fs::create_directories(dir);
  fs::copy_file(src / "tokenizer_config.json", dir / "tokenizer_config.json", fs::copy_options::overwrite_existing);
  gzFile in = gzopen((src / "tokenizer.json.gz").c_str(), "rb");
  if (!in) throw std::runtime_error("cannot open " + (src / "tokenizer.json.gz").string());
  std::ofstream out(dir / "tokenizer.json", std::ios::binary);
  char buf[1 << 16];
  for (int n; (n = gzread(in, buf, sizeof buf)) > 0;) out.write(buf, n);
  gzclose(in);
  inflated[name] = dir;
  return dir;
}

// Removes the inflated copies (call once at the end of a test program).
inline void remove_inflated_hf_tokenizers() {
  std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                              ("tune_test_hf_tokenizer_" + std::to_string(::getpid())));
}

// Every test program that includes this header removes its inflated copies when it ends.
class InflatedHfTokenizersCleanup : public ::testing::Environment {
 public:
  void TearDown() override { remove_inflated_hf_tokenizers(); }
};
inline const auto* const kInflatedHfTokenizersCleanup =
    ::testing::AddGlobalTestEnvironment(new InflatedHfTokenizersCleanup);

}  // namespace tune_test
