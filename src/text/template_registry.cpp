// The chat templates tune.cpp knows, transcribed as data from LLaMA-Factory's data/template.py of each era.
#include "text/template_spec.h"

namespace tune::text_detail {
namespace {

Slot text(std::string s) { return {Slot::Kind::Text, std::move(s)}; }
const Slot kBos{Slot::Kind::Bos, {}};
const Slot kEos{Slot::Kind::Eos, {}};

const char* const kGemmaUser = "<start_of_turn>user\n{{content}}<end_of_turn>\n<start_of_turn>model\n";

std::vector<TemplateSpec> build() {
  std::vector<TemplateSpec> all;

  // gemma as the seed run used it: LF 89f86cc97 (2024-02-23), unchanged in v0.5.3 .. v0.9.1. <bos> + system always
  // (force_system), no <end_of_turn> after an answer; "<end_of_turn>\n" opens each later turn; the eos (<eos>) is
  // appended by the caller (efficient_eos).
  TemplateSpec gemma;
  gemma.name = "gemma";
  gemma.system = {kBos, text("{{content}}")};
  gemma.user = {text(kGemmaUser)};
  gemma.assistant = {text("{{content}}")};
  gemma.separator = {text("<end_of_turn>\n")};
  gemma.force_system = true;
  gemma.efficient_eos = true;
  all.push_back(gemma);

  // gemma in LF >= v0.9.3 (Llama2Template): prefix <bos>; a non-empty system becomes "{system}\n\n" at the start of
  // the first user message; every answer ends "<end_of_turn>\n"; replace_eos makes <end_of_turn> the eos.
  TemplateSpec current;
  current.name = "gemma_current";
  current.prefix = {kBos};
  current.system = {text("{{content}}\n\n")};
  current.user = {text(kGemmaUser)};
  current.assistant = {text("{{content}}<end_of_turn>\n")};
  current.fuse_system = true;
  current.eos_token = "<end_of_turn>";
  all.push_back(current);

  // default, LF v0.5.x: no <bos>; the answer ends with the eos.
  TemplateSpec fallback;
  fallback.name = "default";
  fallback.system = {text("{{content}}\n")};
  fallback.user = {text("Human: {{content}}\nAssistant: ")};
  fallback.assistant = {text("{{content}}"), kEos};
  fallback.separator = {text("\n")};
  all.push_back(fallback);

  // alpaca, LF v0.5.x: the system formatter is the bare "{{content}}" (LF added the blank line after the default
  // system prompt only later), so the prompt reads "...the request.### Instruction:\n...".
  TemplateSpec alpaca;
  alpaca.name = "alpaca";
  alpaca.system = {text("{{content}}")};
  alpaca.user = {text("### Instruction:\n{{content}}\n\n### Response:\n")};
  alpaca.assistant = {text("{{content}}"), kEos};
  alpaca.separator = {text("\n\n")};
  alpaca.default_system =
      "Below is an instruction that describes a task. Write a response that appropriately completes the request.";
  all.push_back(alpaca);

  // empty, LF >= v0.8 (the seed era's placeholder was `vanilla`): bare text everywhere, no eos anywhere.
  TemplateSpec empty;
  empty.name = "empty";
  empty.system = {text("{{content}}")};
  empty.user = {text("{{content}}")};
  empty.assistant = {text("{{content}}")};
  all.push_back(empty);

  return all;
}

}  // namespace

const std::vector<TemplateSpec>& template_registry() {
  static const std::vector<TemplateSpec> all = build();
  return all;
}

}  // namespace tune::text_detail
