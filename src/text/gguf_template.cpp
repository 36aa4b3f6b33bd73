// GGUF tokenizer.chat_template / general.architecture -> the LLaMA-Factory template of the same chat format.
#include "text/gguf_template.h"

#include "core/error.h"
#include "io/gguf.h"

namespace tune {

namespace {

bool has(const std::string& text, const char* marker) { return text.find(marker) != std::string::npos; }

// The Gemma template of each Gemma generation (LF: gemma for Gemma 1 is tune.cpp's gemma_current).
std::string gemma_template_for(const std::string& arch) {
  if (arch == "gemma") return "gemma_current";
  if (arch == "gemma2") return "gemma2";
  return "gemma3";
}

}  // namespace

std::optional<GgufTemplateChoice> choose_gguf_template(const GgufFile& gguf) {
  const std::string arch = gguf.get_string_or("general.architecture").value_or("");
  const std::optional<std::string> stored = gguf.get_string_or("tokenizer.chat_template");
  if (!stored) {
    if (arch == "gemma" || arch == "gemma2" || arch == "gemma3")
      return GgufTemplateChoice{gemma_template_for(arch),
                                cat("the file stores no chat template; the one of architecture ", arch)};
    return std::nullopt;
  }
  const std::string& t = *stored;
  const auto from_markers = [](std::string name, std::string markers) {
    return GgufTemplateChoice{std::move(name), "recognised from the file's stored chat template (" + markers + ")"};
  };
  if (has(t, "<start_of_turn>")) return from_markers(gemma_template_for(arch), "<start_of_turn>, architecture " + arch);
  if (has(t, "<|start_header_id|>")) return from_markers("llama3", "<|start_header_id|>");
  if (has(t, "[INST]")) return has(t, "<<SYS>>") ? from_markers("llama2", "[INST] and <<SYS>>")
                                                 : from_markers("mistral", "[INST] without <<SYS>>");
  if (has(t, "<|im_start|>")) {
    if (has(t, "SmolLM")) return from_markers("smollm2", "<|im_start|> and SmolLM's default system prompt");
    if (arch == "qwen3") return from_markers("qwen3_nothink", "<|im_start|>, architecture qwen3");
    if (has(t, "You are Qwen")) return from_markers("qwen", "<|im_start|> and Qwen's default system prompt");
    return from_markers("chatml", "<|im_start|>");
  }
  return std::nullopt;
}

}  // namespace tune
