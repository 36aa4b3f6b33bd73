// LLaMA-Factory's formatter model as data: the slots of each template (private to src/text).
#pragma once
#include <string>
#include <vector>

namespace tune::text_detail {

// One formatter slot: a string (with "{{content}}"/"{{idx}}" placeholders) or LF's {"bos_token"} / {"eos_token"}.
struct Slot {
  enum class Kind { Text, Bos, Eos };
  Kind kind;
  std::string text;  // Kind::Text only
};
using Slots = std::vector<Slot>;

// A template as LF's _register_template declares it; empty Slots = LF's EmptyFormatter().
struct TemplateSpec {
  std::string name;
  Slots prefix;       // message 0 only, always (LF >= 0.9 format_prefix; seed-era templates have none)
  Slots system;       // message 0, when the system text is non-empty or force_system
  Slots user;
  Slots assistant;
  Slots separator;    // before every user message after the first (seed era; none in LF >= 0.9)
  std::string default_system;  // used when the caller's system text is empty
  bool force_system = false;   // emit the system slots even for an empty system text
  bool fuse_system = false;    // LF Llama2Template: the formatted system text is prepended to the first user content
  bool efficient_eos = false;  // the assistant slots carry no eos; the caller appends one after the answer
  std::string eos_token;       // LF replace_eos: this stop word is the eos; empty = the tokenizer's eos
  std::vector<std::string> stop_words;  // LF stop_words: generation also stops at these (those the tokenizer has)
};

// Every template tune.cpp knows, in a stable order (text/template_registry.cpp).
const std::vector<TemplateSpec>& template_registry();

}  // namespace tune::text_detail
