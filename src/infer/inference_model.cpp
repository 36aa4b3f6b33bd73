#include "infer/inference_model.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "io/model_path.h"
#include "io/peft_adapter.h"
#include "model/merge.h"

namespace tune {

namespace fs = std::filesystem;

namespace {

std::string folder_name(const fs::path& p) {
  const fs::path clean = p.has_filename() ? p : p.parent_path();
  return clean.filename().string();
}

void load_adapters(InferenceModel& m) {
  const auto& names = m.plan.adapter_name_or_path;
  for (size_t i = 0; i < names.size(); ++i) {
    LoraAdapter adapter = load_peft_adapter(names[i], m.cfg);
    if (i + 1 == names.size() && !m.plan.infer_merge_adapters) {
      std::fprintf(stderr, "loaded adapter %s (r %d, alpha %g) as a LoRA branch\n", names[i].c_str(),
                   adapter.config.r, adapter.config.lora_alpha);
      m.adapter = std::move(adapter);
    } else {
      merge_lora(m.weights, adapter);
      std::fprintf(stderr, "merged adapter %s into the base weights\n", names[i].c_str());
    }
  }
}

void load_value_head_if_any(InferenceModel& m) {
  std::vector<fs::path> candidates;
  if (!m.plan.adapter_name_or_path.empty())
    candidates.push_back(fs::path(m.plan.adapter_name_or_path.back()) / "value_head.safetensors");
  candidates.push_back(fs::path(m.plan.model_name_or_path) / "value_head.safetensors");
  for (const fs::path& f : candidates) {
    if (!fs::exists(f)) continue;
    m.value_head = load_value_head(f, m.cfg.hidden_size);
    m.value_head_file = f;
    std::fprintf(stderr, "loaded value head %s\n", f.c_str());
    return;
  }
}

}  // namespace

std::vector<int32_t> generation_stop_ids(const Tokenizer& tok, const Template* chat_template) {
  std::vector<int32_t> ids;
  auto add = [&](int32_t id) {
    if (id >= 0 && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  };
  if (chat_template)
    for (const int32_t id : chat_template->stop_ids(tok)) add(id);
  add(tok.eos_id());
  if (const auto eot = tok.piece_to_id("<end_of_turn>")) add(*eot);
  return ids;
}

std::vector<int32_t> InferenceModel::stop_ids() const { return generation_stop_ids(*tokenizer, chat_template); }

InferenceModel load_inference_model(const Plan& plan) {
  InferenceModel m;
  m.plan = plan;
  m.cfg = load_model_config(plan.model_name_or_path, plan.exact_gelu);
  m.weights = load_model_weights(plan.model_name_or_path, m.cfg);
  m.tokenizer.emplace(load_model_tokenizer_of(plan.model_name_or_path, m.cfg.vocab_size, plan.use_fast_tokenizer));
  m.pad_id = m.tokenizer->pad_id() >= 0 ? m.tokenizer->pad_id() : m.tokenizer->eos_id();
  if (!plan.template_.empty()) m.chat_template = &Template::get(plan.template_);
  load_adapters(m);
  load_value_head_if_any(m);
  m.model_id = folder_name(plan.adapter_name_or_path.empty() ? fs::path(plan.model_name_or_path)
                                                             : fs::path(plan.adapter_name_or_path.back()));
  return m;
}

}  // namespace tune
