// The chat templates tune.cpp knows, transcribed as data from LLaMA-Factory's data/template.py of each era.
#include "text/template_spec.h"

namespace tune::text_detail {
namespace {

Slot text(std::string s) { return {Slot::Kind::Text, std::move(s)}; }
const Slot kBos{Slot::Kind::Bos, {}};
const Slot kEos{Slot::Kind::Eos, {}};

const char* const kGemmaUser = "<start_of_turn>user\n{{content}}<end_of_turn>\n<start_of_turn>model\n";
const char* const kImUser = "<|im_start|>user\n{{content}}<|im_end|>\n<|im_start|>assistant\n";
const char* const kImSystem = "<|im_start|>system\n{{content}}<|im_end|>\n";
const char* const kImAssistant = "{{content}}<|im_end|>\n";

// A template as LF >= 0.9's register_template writes it: no separator, system only when non-empty. LF's defaults:
// user and system "{{content}}", assistant "{{content}}" + eos (without the eos when efficient_eos).
TemplateSpec lf_template(std::string name, Slots user, Slots assistant, Slots system) {
  TemplateSpec t;
  t.name = std::move(name);
  t.user = std::move(user);
  t.assistant = std::move(assistant);
  t.system = std::move(system);
  return t;
}

// replace_eos: the first stop word becomes the eos.
TemplateSpec& replace_eos(TemplateSpec& t) {
  t.eos_token = t.stop_words.at(0);
  return t;
}

// The model families' templates, from LF's data/template.py (v0.9.3 .. 2025): llama3, llama2, mistral, qwen,
// qwen3_nothink, chatml, smollm, smollm2, gemma2, gemma3. Tool/observation formatters are not transcribed (tune.cpp
// has no tool calls). LF's reasoning `qwen3` (an empty <think> block added to each answer) is not registered: use
// qwen3_nothink, as LF says for models that do not reason.
void add_family_templates(std::vector<TemplateSpec>& all) {
  TemplateSpec llama3 = lf_template(
      "llama3",
      {text("<|start_header_id|>user<|end_header_id|>\n\n{{content}}<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n")},
      {text("{{content}}<|eot_id|>")}, {text("<|start_header_id|>system<|end_header_id|>\n\n{{content}}<|eot_id|>")});
  llama3.prefix = {kBos};
  llama3.stop_words = {"<|eot_id|>", "<|eom_id|>"};
  all.push_back(replace_eos(llama3));

  // Llama2Template: the system text is fused into the first user message; every user turn starts with bos.
  TemplateSpec llama2 = lf_template("llama2", {kBos, text("[INST] {{content}} [/INST]")}, {text("{{content}}"), kEos},
                                    {text("<<SYS>>\n{{content}}\n<</SYS>>\n\n")});
  llama2.fuse_system = true;
  all.push_back(llama2);

  // mistral (tokenizer v3), Llama2Template: bos once, then "[INST] {q}[/INST]" and " {a}</s>".
  TemplateSpec mistral =
      lf_template("mistral", {text("[INST] {{content}}[/INST]")}, {text(" {{content}}"), kEos}, {text("{{content}}\n\n")});
  mistral.prefix = {kBos};
  mistral.fuse_system = true;
  all.push_back(mistral);

  TemplateSpec qwen = lf_template("qwen", {text(kImUser)}, {text(kImAssistant)}, {text(kImSystem)});
  qwen.default_system = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
  qwen.stop_words = {"<|im_end|>"};
  all.push_back(replace_eos(qwen));

  TemplateSpec qwen3 = lf_template("qwen3_nothink", {text(kImUser)}, {text(kImAssistant)}, {text(kImSystem)});
  qwen3.stop_words = {"<|im_end|>"};
  all.push_back(replace_eos(qwen3));

  TemplateSpec chatml = lf_template("chatml", {text(kImUser)}, {text(kImAssistant)}, {text(kImSystem)});
  chatml.stop_words = {"<|im_end|>", "<|im_start|>"};
  all.push_back(replace_eos(chatml));

  // smollm / smollm2: <|im_end|> is a stop word but not made the eos (SmolLM's tokenizer has it as its eos already).
  TemplateSpec smollm = lf_template("smollm", {text(kImUser)}, {text(kImAssistant)}, {text(kImSystem)});
  smollm.stop_words = {"<|im_end|>"};
  all.push_back(smollm);
  TemplateSpec smollm2 = smollm;
  smollm2.name = "smollm2";
  smollm2.default_system = "You are a helpful AI assistant named SmolLM, trained by Hugging Face.";
  all.push_back(smollm2);

  // gemma2 and gemma3, Llama2Template: prefix bos, "{system}\n\n" fused into the first user message. gemma2 keeps
  // <eos> as its eos and appends it after the answer's <end_of_turn> (efficient_eos); gemma3 makes <end_of_turn> the
  // eos (replace_eos), like gemma_current.
  TemplateSpec gemma2 =
      lf_template("gemma2", {text(kGemmaUser)}, {text("{{content}}<end_of_turn>\n")}, {text("{{content}}\n\n")});
  gemma2.prefix = {kBos};
  gemma2.fuse_system = true;
  gemma2.efficient_eos = true;
  gemma2.stop_words = {"<eos>", "<end_of_turn>"};
  all.push_back(gemma2);
  TemplateSpec gemma3 = gemma2;
  gemma3.name = "gemma3";
  gemma3.efficient_eos = false;
  gemma3.stop_words = {"<end_of_turn>"};
  all.push_back(replace_eos(gemma3));
}

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
  current.stop_words = {"<end_of_turn>"};
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

  add_family_templates(all);
  return all;
}

}  // namespace

const std::vector<TemplateSpec>& template_registry() {
  static const std::vector<TemplateSpec> all = build();
  return all;
}

}  // namespace tune::text_detail
