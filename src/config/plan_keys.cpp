// The config key table: each key's group, its single-value checks (type, range, allowed words) and its YAML printing.
#include "config/plan_keys.h"

#include <algorithm>
#include <climits>

#include "core/error.h"

namespace tune {

namespace {

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

bool contains(const std::vector<std::string>& items, const std::string& s) {
  return std::find(items.begin(), items.end(), s) != items.end();
}

int64_t int_in(const ConfigValue& v, int64_t lo, int64_t hi, const std::string& must_be) {
  const int64_t x = value_int(v, must_be);
  if (x < lo || x > hi) fail_value(v, must_be);
  return x;
}

std::string show_list(const std::vector<std::string>& items) {
  const bool commas = std::any_of(items.begin(), items.end(), [](const auto& s) { return s.find(',') != s.npos; });
  if (!commas) return yaml_text(join(items, ","));
  std::vector<std::string> quoted;
  for (const auto& s : items) quoted.push_back(yaml_quoted(s));
  return "[" + join(quoted, ", ") + "]";
}

template <class T>
std::string show_optional(const std::optional<T>& x) {
  return x ? std::to_string(*x) : "null";
}

KeyDef bool_key(std::string name, KeyGroup g, bool Plan::*f) {
  return {std::move(name), g, [f](Plan& p, const ConfigValue& v) { p.*f = value_bool(v); },
          [f](const Plan& p) { return std::string(p.*f ? "true" : "false"); }, true};
}

KeyDef int_key(std::string name, KeyGroup g, int Plan::*f, int lo, const std::string& must_be) {
  return {std::move(name), g,
          [f, lo, must_be](Plan& p, const ConfigValue& v) { p.*f = static_cast<int>(int_in(v, lo, INT_MAX, must_be)); },
          [f](const Plan& p) { return std::to_string(p.*f); }};
}

// null -> unset; otherwise an int >= lo.
KeyDef optional_int_key(std::string name, KeyGroup g, std::optional<int> Plan::*f, int lo, const std::string& must_be) {
  return {std::move(name), g,
          [f, lo, must_be](Plan& p, const ConfigValue& v) {
            p.*f = v.is_null ? std::nullopt : std::optional<int>(static_cast<int>(int_in(v, lo, INT_MAX, must_be)));
          },
          [f](const Plan& p) { return show_optional(p.*f); }};
}

// lo_open: lo itself is refused too (a range (lo, hi]).
KeyDef double_key(std::string name, KeyGroup g, double Plan::*f, double lo, double hi, bool hi_open,
                  const std::string& must_be, bool lo_open = false) {
  return {std::move(name), g,
          [=](Plan& p, const ConfigValue& v) {
            const double x = value_double(v, must_be);
            if (x < lo || x > hi || (hi_open && x == hi) || (lo_open && x == lo)) fail_value(v, must_be);
            p.*f = x;
          },
          [f](const Plan& p) { return yaml_double(p.*f); }};
}

// must_be set: the text may not be empty or null (a key whose default is not "unset").
KeyDef text_key(std::string name, KeyGroup g, std::string Plan::*f, const std::string& must_be = "") {
  return {std::move(name), g,
          [f, must_be](Plan& p, const ConfigValue& v) {
            const std::string s = value_string(v);
            if (s.empty() && !must_be.empty()) fail_value(v, must_be);
            p.*f = s;
          },
          [f](const Plan& p) { return yaml_text(p.*f); }};
}

KeyDef list_key(std::string name, KeyGroup g, std::vector<std::string> Plan::*f) {
  return {std::move(name), g, [f](Plan& p, const ConfigValue& v) { p.*f = value_list(v); },
          [f](const Plan& p) { return show_list(p.*f); }};
}

// One of `allowed`; a word in `not_yet` gets "<key> '<word>' is <why>" instead of the generic message.
KeyDef word_key(std::string name, KeyGroup g, std::string Plan::*f, std::vector<std::string> allowed,
                std::vector<std::string> not_yet = {}, std::string why = "") {
  return {std::move(name), g,
          [=](Plan& p, const ConfigValue& v) {
            const std::string must_be = "one of " + join(allowed, ", ");
            const std::string w = v.is_null ? "" : value_string(v);
            if (contains(not_yet, w)) fail(v.source, ": ", v.key, " '", w, "'", v.where, " is ", why);
            if (!contains(allowed, w)) fail_value(v, must_be);
            p.*f = w;
          },
          [f](const Plan& p) { return yaml_text(p.*f); }};
}

void set_lora_target(Plan& p, const ConfigValue& v) {
  const std::string must_be = "all or a comma list of " + join(lora_module_names(), ", ");
  std::vector<std::string> names = value_list(v);
  if (names.empty()) fail_value(v, must_be);
  if (names.size() == 1 && names[0] == "all") {
    p.lora_target = names;
    return;
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (!contains(lora_module_names(), names[i])) fail_value(v, must_be);
    if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), names[i]) !=
        names.begin() + static_cast<std::ptrdiff_t>(i))
      fail(v.source, ": lora_target lists '", names[i], "' twice", v.where, "; list each module once");
  }
  p.lora_target = names;
}

void set_val_size(Plan& p, const ConfigValue& v) {
  const std::string must_be = "0 (no eval split), a fraction in (0, 1) or a whole count >= 1";
  const double x = value_double(v, must_be);
  if (x < 0 || (x >= 1 && x != static_cast<double>(static_cast<int64_t>(x)))) fail_value(v, must_be);
  p.val_size = x;
}

void set_resume(Plan& p, const ConfigValue& v) {
  if (v.is_null) {
    p.resume_from_checkpoint = false;
    return;
  }
  const std::string s = value_string(v);
  const int b = v.quoted ? -1 : parse_bool_word(s);
  if (b >= 0 || s.empty())
    p.resume_from_checkpoint = b == 1;
  else
    p.resume_from_checkpoint = s;
}

std::string show_resume(const Plan& p) {
  if (const bool* b = std::get_if<bool>(&p.resume_from_checkpoint)) return *b ? "true" : "false";
  return yaml_text(std::get<std::string>(p.resume_from_checkpoint));
}

// v0.5.2 wrote flash_attn as a bool: true meant FlashAttention-2 (HEAD "fa2"), false meant eager ("disabled").
void set_flash_attn(Plan& p, const ConfigValue& v) {
  const std::vector<std::string> allowed = {"auto", "disabled", "sdpa", "fa2", "fa3"};
  const std::string w = value_string(v);
  const int b = v.quoted ? -1 : parse_bool_word(w);
  if (b >= 0) {
    p.flash_attn = b == 1 ? "fa2" : "disabled";
    return;
  }
  if (!contains(allowed, w)) fail_value(v, "one of " + join(allowed, ", ") + " (or true/false)");
  p.flash_attn = w;
}

// HF's integration names (transformers.integrations INTEGRATION_TO_CALLBACK) plus all and none. tune.cpp sends nothing
// to any of them; the loader warns about every name but none.
void set_report_to(Plan& p, const ConfigValue& v) {
  const std::vector<std::string> known = {"none",     "all",     "azure_ml", "clearml",     "codecarbon",
                                          "comet_ml", "dagshub", "dvclive",  "flyte",       "mlflow",
                                          "neptune",  "swanlab", "trackio",  "tensorboard", "wandb"};
  std::vector<std::string> names = value_list(v);
  for (const auto& n : names)
    if (!contains(known, n)) fail_value(v, "none, all or a list of HF integrations (" + join(known, ", ") + ")");
  p.report_to = names.empty() ? std::vector<std::string>{"none"} : names;
}

// null -> unset; any number is rejected with `why` (tune.cpp has no quantization).
KeyDef unsupported_quantization_key(std::string name, KeyGroup g, std::optional<int> Plan::*f, std::string why) {
  return {name, g,
          [f, name, why](Plan& p, const ConfigValue& v) {
            if (v.is_null) {
              (p.*f).reset();
              return;
            }
            fail(v.source, ": ", name, " '", v.text(), "'", v.where, " is not supported: ", why,
                 "; remove the key or set it to null");
          },
          [f](const Plan& p) { return show_optional(p.*f); }};
}

std::vector<KeyDef> make_keys() {
  using G = KeyGroup;
  const std::string positive = "a positive integer", non_negative = "a non-negative integer";
  std::vector<KeyDef> k;
  // model
  k.push_back(text_key("model_name_or_path", G::Model, &Plan::model_name_or_path));
  k.push_back(list_key("adapter_name_or_path", G::Model, &Plan::adapter_name_or_path));
  k.push_back(bool_key("use_fast_tokenizer", G::Model, &Plan::use_fast_tokenizer));
  k.push_back(bool_key("trust_remote_code", G::Model, &Plan::trust_remote_code));
  k.push_back({"flash_attn", G::Model, set_flash_attn, [](const Plan& p) { return yaml_text(p.flash_attn); }});
  k.push_back(unsupported_quantization_key("quantization_bit", G::Model, &Plan::quantization_bit,
                                           "tune.cpp has no quantized (QLoRA) training"));
  k.push_back(bool_key("disable_gradient_checkpointing", G::Model, &Plan::disable_gradient_checkpointing));
  // method
  k.push_back(word_key("stage", G::Method, &Plan::stage, {"pt", "sft", "rm", "dpo"}, {"ppo", "kto", "orpo", "simpo"},
                       "not a supported stage (supported: pt, sft, rm, dpo; ORPO and SimPO are stage: dpo with "
                       "pref_loss: orpo or simpo)"));
  k.push_back(word_key("finetuning_type", G::Method, &Plan::finetuning_type, {"lora"}, {"full", "freeze", "oft"},
                       "not supported: tune.cpp trains LoRA adapters only (finetuning_type: lora)"));
  k.push_back({"lora_target", G::Method, set_lora_target, [](const Plan& p) { return show_list(p.lora_target); }});
  k.push_back(int_key("lora_rank", G::Method, &Plan::lora_rank, 1, positive));
  // null = unset (0 here); the loader resolves it to 2 * lora_rank.
  k.push_back({"lora_alpha", G::Method,
               [positive](Plan& p, const ConfigValue& v) {
                 p.lora_alpha = v.is_null ? 0 : static_cast<int>(int_in(v, 1, INT_MAX, positive));
               },
               [](const Plan& p) { return std::to_string(p.lora_alpha); }});
  k.push_back(double_key("lora_dropout", G::Method, &Plan::lora_dropout, 0.0, 1.0, true, "a number in [0, 1)"));
  k.push_back(bool_key("use_rslora", G::Method, &Plan::use_rslora));
  k.push_back(double_key("pref_beta", G::Method, &Plan::pref_beta, 0.0, 1e30, false, "a positive number", true));
  k.push_back(double_key("pref_ftx", G::Method, &Plan::pref_ftx, 0.0, 1e30, false, "a non-negative number"));
  k.push_back(word_key("pref_loss", G::Method, &Plan::pref_loss, {"sigmoid", "hinge", "ipo", "orpo", "simpo"},
                       {"kto_pair", "bco_pair", "sppo_hard", "nca_pair", "robust", "exo_pair", "aot", "apo_zero"},
                       "not supported by tune.cpp (supported: sigmoid, hinge, ipo, orpo, simpo)"));
  k.push_back(double_key("dpo_label_smoothing", G::Method, &Plan::dpo_label_smoothing, 0.0, 0.5, false,
                         "a number in [0, 0.5]"));
  k.push_back(double_key("simpo_gamma", G::Method, &Plan::simpo_gamma, 0.0, 1e30, false, "a non-negative number"));
  k.push_back(text_key("ref_model", G::Method, &Plan::ref_model));
  k.push_back(list_key("ref_model_adapters", G::Method, &Plan::ref_model_adapters));
  // dataset
  k.push_back(text_key("template", G::Dataset, &Plan::template_));
  k.push_back(list_key("dataset", G::Dataset, &Plan::dataset));
  k.push_back(list_key("eval_dataset", G::Dataset, &Plan::eval_dataset));
  k.push_back(text_key("dataset_dir", G::Dataset, &Plan::dataset_dir, "a folder holding dataset_info.json"));
  k.push_back(int_key("cutoff_len", G::Dataset, &Plan::cutoff_len, 1, positive));
  k.push_back({"val_size", G::Dataset, set_val_size, [](const Plan& p) { return yaml_double(p.val_size); }});
  k.push_back({"max_samples", G::Dataset,
               [positive](Plan& p, const ConfigValue& v) {
                 p.max_samples = v.is_null ? std::nullopt : std::optional<int64_t>(int_in(v, 1, INT64_MAX, positive));
               },
               [](const Plan& p) { return show_optional(p.max_samples); }});
  k.push_back(bool_key("train_on_prompt", G::Dataset, &Plan::train_on_prompt));
  k.push_back(optional_int_key("preprocessing_num_workers", G::Dataset, &Plan::preprocessing_num_workers, 1, positive));
  k.push_back(bool_key("overwrite_cache", G::Dataset, &Plan::overwrite_cache));
  // output
  k.push_back(text_key("output_dir", G::Output, &Plan::output_dir));
  k.push_back(bool_key("overwrite_output_dir", G::Output, &Plan::overwrite_output_dir));
  k.push_back(int_key("save_steps", G::Output, &Plan::save_steps, 1, positive));
  k.push_back(optional_int_key("save_total_limit", G::Output, &Plan::save_total_limit, 1, positive));
  k.push_back(bool_key("save_safetensors", G::Output, &Plan::save_safetensors));
  k.push_back(bool_key("save_only_model", G::Output, &Plan::save_only_model));
  k.push_back(text_key("logging_dir", G::Output, &Plan::logging_dir));
  k.push_back(bool_key("plot_loss", G::Output, &Plan::plot_loss));
  k.push_back({"report_to", G::Output, set_report_to, [](const Plan& p) { return show_list(p.report_to); }});
  k.push_back({"resume_from_checkpoint", G::Output, set_resume, show_resume});
  // train
  k.push_back(bool_key("do_train", G::Train, &Plan::do_train));
  k.push_back(bool_key("do_eval", G::Train, &Plan::do_eval));
  k.push_back(bool_key("do_predict", G::Train, &Plan::do_predict));
  k.push_back(int_key("per_device_train_batch_size", G::Train, &Plan::per_device_train_batch_size, 1, positive));
  k.push_back(int_key("per_device_eval_batch_size", G::Train, &Plan::per_device_eval_batch_size, 1, positive));
  k.push_back(int_key("gradient_accumulation_steps", G::Train, &Plan::gradient_accumulation_steps, 1, positive));
  k.push_back(double_key("learning_rate", G::Train, &Plan::learning_rate, 0.0, 1e30, false, "a non-negative number"));
  k.push_back(
      double_key("num_train_epochs", G::Train, &Plan::num_train_epochs, 0.0, 1e30, false, "a non-negative number"));
  k.push_back({"max_steps", G::Train,
               [](Plan& p, const ConfigValue& v) {
                 const std::string must_be = "-1 (train for num_train_epochs) or a positive integer";
                 const int64_t x = int_in(v, -1, INT_MAX, must_be);
                 if (x == 0) fail_value(v, must_be);
                 p.max_steps = static_cast<int>(x);
               },
               [](const Plan& p) { return std::to_string(p.max_steps); }});
  k.push_back(word_key("lr_scheduler_type", G::Train, &Plan::lr_scheduler_type,
                       {"linear", "cosine", "constant", "constant_with_warmup"}));
  k.push_back(double_key("warmup_ratio", G::Train, &Plan::warmup_ratio, 0.0, 1.0, false, "a number in [0, 1]"));
  k.push_back(int_key("warmup_steps", G::Train, &Plan::warmup_steps, 0, non_negative));
  k.push_back(double_key("weight_decay", G::Train, &Plan::weight_decay, 0.0, 1e30, false, "a non-negative number"));
  k.push_back(word_key("optim", G::Train, &Plan::optim, {"adamw_torch", "adamw_torch_fused", "adamw_hf"},
                       {"adamw_8bit", "paged_adamw_8bit", "paged_adamw_32bit", "adafactor", "sgd", "adagrad",
                        "galore_adamw", "apollo_adamw", "muon", "lomo", "adalomo"},
                       "not supported: tune.cpp trains with AdamW (optim: adamw_torch)"));
  k.push_back(double_key("adam_beta1", G::Train, &Plan::adam_beta1, 0.0, 1.0, true, "a number in [0, 1)"));
  k.push_back(double_key("adam_beta2", G::Train, &Plan::adam_beta2, 0.0, 1.0, true, "a number in [0, 1)"));
  k.push_back(double_key("adam_epsilon", G::Train, &Plan::adam_epsilon, 0.0, 1e30, false, "a non-negative number"));
  k.push_back(double_key("max_grad_norm", G::Train, &Plan::max_grad_norm, 0.0, 1e30, false,
                         "a non-negative number (0 = no clipping)"));
  k.push_back(bool_key("fp16", G::Train, &Plan::fp16));
  k.push_back(bool_key("bf16", G::Train, &Plan::bf16));
  k.push_back({"seed", G::Train,
               [non_negative](Plan& p, const ConfigValue& v) { p.seed = int_in(v, 0, INT64_MAX, non_negative); },
               [](const Plan& p) { return std::to_string(p.seed); }});
  k.push_back(int_key("logging_steps", G::Train, &Plan::logging_steps, 1, positive));
  k.push_back(int_key("ddp_timeout", G::Train, &Plan::ddp_timeout, 1, positive));
  k.push_back(int_key("dataloader_num_workers", G::Train, &Plan::dataloader_num_workers, 0, non_negative));
  // eval
  k.push_back(word_key("eval_strategy", G::Eval, &Plan::eval_strategy, {"no", "steps", "epoch"}));
  k.push_back(optional_int_key("eval_steps", G::Eval, &Plan::eval_steps, 1, positive));
  k.push_back(bool_key("compute_accuracy", G::Eval, &Plan::compute_accuracy));
  k.push_back(bool_key("predict_with_generate", G::Eval, &Plan::predict_with_generate));
  // generate
  k.push_back(bool_key("do_sample", G::Generate, &Plan::do_sample));
  k.push_back(double_key("temperature", G::Generate, &Plan::temperature, 0.0, 1e30, false, "a non-negative number"));
  k.push_back(double_key("top_p", G::Generate, &Plan::top_p, 0.0, 1.0, false, "a number in (0, 1]", true));
  k.push_back(int_key("top_k", G::Generate, &Plan::top_k, 0, "a non-negative integer (0 = no top-k filter)"));
  k.push_back({"num_beams", G::Generate,
               [](Plan& p, const ConfigValue& v) {
                 const int64_t x = int_in(v, 1, INT_MAX, "a positive integer");
                 if (x != 1)
                   fail(v.source, ": num_beams ", x, v.where,
                        " is not supported: tune.cpp has no beam search; use num_beams: 1 (sampling or greedy)");
                 p.num_beams = 1;
               },
               [](const Plan& p) { return std::to_string(p.num_beams); }});
  k.push_back(int_key("max_new_tokens", G::Generate, &Plan::max_new_tokens, 1, positive));
  k.push_back(double_key("repetition_penalty", G::Generate, &Plan::repetition_penalty, 0.0, 1e30, false,
                         "a positive number (1.0 = no penalty)", true));
  k.push_back(text_key("default_system", G::Generate, &Plan::default_system));
  k.push_back(bool_key("skip_special_tokens", G::Generate, &Plan::skip_special_tokens));
  k.push_back(word_key("infer_backend", G::Generate, &Plan::infer_backend, {"huggingface", "vllm", "sglang"}));
  // export
  k.push_back(text_key("export_dir", G::Export, &Plan::export_dir));
  k.push_back(int_key("export_size", G::Export, &Plan::export_size, 1, "a positive integer (GB per shard)"));
  k.push_back({"export_legacy_format", G::Export,
               [](Plan& p, const ConfigValue& v) {
                 if (value_bool(v))
                   fail(v.source, ": export_legacy_format: true", v.where,
                        " is not supported: tune.cpp exports safetensors only; set export_legacy_format: false");
                 p.export_legacy_format = false;
               },
               [](const Plan&) { return std::string("false"); }});
  k.push_back(word_key("export_device", G::Export, &Plan::export_device, {"cpu", "auto"}));
  k.push_back(unsupported_quantization_key("export_quantization_bit", G::Export, &Plan::export_quantization_bit,
                                           "tune.cpp has no GPTQ export"));
  k.push_back(text_key("export_lora_gguf", G::Export, &Plan::export_lora_gguf));  // tune.cpp's own
  k.push_back(word_key("export_lora_gguf_type", G::Export, &Plan::export_lora_gguf_type, {"f32", "f16"}));
  // tune.cpp
  k.push_back(word_key("rm_loss", G::Tune, &Plan::rm_loss, {"per_token", "last_token"}));
  k.push_back(double_key("value_head_dropout", G::Tune, &Plan::value_head_dropout, 0.0, 1.0, true,
                         "a number in [0, 1)"));
  k.push_back(word_key("device", G::Tune, &Plan::device, {"cpu", "cuda", "auto"}));
  k.push_back(bool_key("exact_gelu", G::Tune, &Plan::exact_gelu));
  k.push_back(int_key("threads", G::Tune, &Plan::threads, 0, "a non-negative integer (0 = all cores)"));
  k.push_back(bool_key("infer_merge_adapters", G::Tune, &Plan::infer_merge_adapters));
  // null = unset until the loader resolves it from model_name_or_path (keep for a .gguf, else dequantize).
  k.push_back({"gguf_weights", G::Tune,
               [](Plan& p, const ConfigValue& v) {
                 const std::string w = v.is_null ? "" : value_string(v);
                 if (!w.empty() && w != "keep" && w != "dequantize") fail_value(v, "keep or dequantize");
                 p.gguf_weights = w;
               },
               [](const Plan& p) { return p.gguf_weights.empty() ? std::string("null") : yaml_text(p.gguf_weights); }});
  return k;
}

}  // namespace

const std::vector<KeyDef>& plan_keys() {
  static const std::vector<KeyDef> keys = make_keys();
  return keys;
}

const std::vector<KeyAlias>& plan_key_aliases() {
  static const std::vector<KeyAlias> aliases = {{"evaluation_strategy", "eval_strategy"}};
  return aliases;
}

const std::vector<std::string>& lora_module_names() {
  static const std::vector<std::string> names = {"q_proj",    "k_proj", "v_proj",   "o_proj",
                                                 "gate_proj", "up_proj", "down_proj"};
  return names;
}

}  // namespace tune
