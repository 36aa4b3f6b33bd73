// libFuzzer target: the first byte picks config.json (parse_hf_config) or adapter_config.json
// (parse_adapter_config); the rest is the JSON text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "io/hf_config.h"
#include "io/peft_adapter.h"

// tune::Error is the expected rejection; any other exception escaping, or a sanitizer report, is a bug.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const uint8_t selector = data[0];
  if (selector & 1) {
    tune::LoraConfig cfg;
    try {
      cfg = tune::parse_adapter_config(text, "adapter_config.json");
    } catch (const tune::Error&) {
      return 0;
    }
    // What we write for an accepted config must parse again.
    tune::parse_adapter_config(tune::adapter_config_json(cfg), "adapter_config.json (rewritten)");
  } else {
    try {
      tune::parse_hf_config(text, "config.json", (selector & 2) != 0);
    } catch (const tune::Error&) {
      return 0;
    }
  }
  return 0;
}
