// Metadata-only GGUF files for the tokenizer and chat-template tests: key/value pairs collected in order, then
// framed by the header with their count (encoded with tests/unit/gguf_bytes.h).
#pragma once
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "unit/gguf_bytes.h"

namespace tune::test {

class TinyGguf {
 public:
  TinyGguf& str(const std::string& key, const std::string& value) {
    kv_.str(key).u32(8).str(value);
    ++count_;
    return *this;
  }
  TinyGguf& u32(const std::string& key, uint32_t value) {
    kv_.str(key).u32(4).u32(value);
    ++count_;
    return *this;
  }
  TinyGguf& strings(const std::string& key, const std::vector<std::string>& values) {
    kv_.str(key).u32(9).u32(8).u64(values.size());
    for (const auto& v : values) kv_.str(v);
    ++count_;
    return *this;
  }
  std::vector<std::byte> bytes() const {
    GgufBytes file;
    file.header(0, count_);
    return file.raw(kv_.bytes.data(), kv_.bytes.size()).bytes;
  }
  GgufFile parse(const std::string& source = "tiny.gguf") const { return GgufFile::parse(bytes(), source); }
  void write(const std::filesystem::path& path) const {
    const std::vector<std::byte> b = bytes();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
  }

 private:
  GgufBytes kv_;
  uint64_t count_ = 0;
};

}  // namespace tune::test
