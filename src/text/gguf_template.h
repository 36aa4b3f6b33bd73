// The LLaMA-Factory chat template for a GGUF model whose config names none: recognised from the Jinja template the
// file stores (tokenizer.chat_template; tune.cpp runs no Jinja), else by architecture.
#pragma once
#include <optional>
#include <string>

namespace tune {

class GgufFile;

struct GgufTemplateChoice {
  std::string name;    // a registered template (Template::get)
  std::string reason;  // why, for the plan print: "the stored chat template has <|im_start|> and SmolLM's system ..."
};

// The stored template's markers decide: <start_of_turn> -> the Gemma template of the architecture (gemma ->
// gemma_current, gemma2 -> gemma2, else gemma3); <|start_header_id|> -> llama3; [INST] -> llama2 with <<SYS>>, else
// mistral; <|im_start|> -> smollm2 when it names SmolLM, qwen3_nothink for arch qwen3, qwen when it names Qwen,
// else chatml. Without a stored template: gemma -> gemma_current, gemma2 -> gemma2, gemma3 -> gemma3. nullopt when
// nothing matches (a stored template of another form, or another architecture without one).
std::optional<GgufTemplateChoice> choose_gguf_template(const GgufFile& gguf);

}  // namespace tune
