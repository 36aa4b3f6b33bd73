// The family table: config.json model_type -> its ModelSpec parser.
#include "model/families/family.h"

#include <array>

namespace tune {
namespace {

constexpr std::array<Family, 8> kFamilies = {{
    {"gemma", parse_gemma},
    {"gemma2", parse_gemma2},
    {"gemma3", parse_gemma3},
    {"gemma3_text", parse_gemma3_text},
    {"llama", parse_llama},
    {"mistral", parse_mistral},
    {"qwen2", parse_qwen2},
    {"qwen3", parse_qwen3},
}};

}  // namespace

const Family* find_family(std::string_view model_type) {
  for (const Family& f : kFamilies)
    if (f.model_type == model_type) return &f;
  return nullptr;
}

std::string supported_model_types() {
  std::string out;
  for (const Family& f : kFamilies) out += (out.empty() ? "" : ", ") + std::string(f.model_type);
  return out;
}

}  // namespace tune
