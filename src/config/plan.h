// The run plan: every LLaMA-Factory config key tune.cpp reads, typed, with its default, plus the loaders and printer.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tune {

// One field per config key; the field name is the LLaMA-Factory (or HF TrainingArguments) key name. Defaults follow
// current LLaMA-Factory HEAD / HF transformers 4.x where they differ from the seed-era v0.5.2 (noted per field).
// Enumerated keys are kept as the strings users write; the loader only lets the listed values through.
// An empty string in an optional-text field means "unset" and is printed as null.
struct Plan {
  // ---- model ----
  std::string model_name_or_path;                 // required: a local model folder
  std::vector<std::string> adapter_name_or_path;  // comma list; all but the last are merged, the last is resumed
  bool use_fast_tokenizer = true;                 // HEAD default (v0.5.2: false); false prefers tokenizer.model
  bool trust_remote_code = false;                 // kept, no effect
  std::string flash_attn = "auto";  // HEAD: auto|disabled|sdpa|fa2|fa3 (v0.5.2 used true/false); kept, no effect yet
  std::optional<int> quantization_bit;            // any value is rejected (no QLoRA); always unset in a valid plan
  bool disable_gradient_checkpointing = false;    // kept, no effect yet

  // ---- method ----
  std::string stage = "sft";             // pt|sft|rm|dpo (ppo/kto rejected as not yet supported)
  std::string finetuning_type = "lora";  // only lora
  std::vector<std::string> lora_target = {"all"};  // HEAD default "all" (v0.5.2: required); or a subset of
                                                   // q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj
  int lora_rank = 8;
  int lora_alpha = 16;  // LF: unset -> 2 * lora_rank (the loader resolves it; 16 matches the default rank)
  double lora_dropout = 0.0;
  bool use_rslora = false;  // scaling alpha / sqrt(r) instead of alpha / r
  // stage dpo (LF FinetuningArguments; defaults as LF):
  double pref_beta = 0.1;            // beta of the preference loss
  double pref_ftx = 0.0;             // weight of the SFT loss (-mean log-prob of the chosen answer) added per pair
  std::string pref_loss = "sigmoid";  // sigmoid|hinge|ipo|orpo|simpo (orpo, simpo: no reference model)
  double dpo_label_smoothing = 0.0;  // robust DPO (sigmoid only), in [0, 0.5]
  double simpo_gamma = 0.5;          // SimPO target reward margin
  std::string ref_model;             // reference model folder; empty = the base with the adapter disabled
  std::vector<std::string> ref_model_adapters;  // adapters merged into ref_model, in order

  // ---- dataset ----
  std::string template_;  // config key "template" (a C++ keyword); required for every stage but pt
  std::string template_origin;  // not a key: why a GGUF model got template_ when the config named none (plan print)
  std::vector<std::string> dataset;      // comma list of dataset_info.json names
  std::vector<std::string> eval_dataset;  // comma list; the evaluation set instead of a val_size split
  std::string dataset_dir = "data";
  int cutoff_len = 2048;                 // HEAD default (v0.5.2: 1024)
  double val_size = 0.0;                 // 0 = no eval split; (0, 1) = fraction; whole number >= 1 = count
  std::optional<int64_t> max_samples;    // per dataset
  bool train_on_prompt = false;
  std::optional<int> preprocessing_num_workers;  // kept, no effect yet
  bool overwrite_cache = false;                  // kept, no effect

  // ---- output ----
  std::string output_dir;  // required with do_train (HF 4.x has no default)
  bool overwrite_output_dir = false;
  int save_steps = 500;
  std::optional<int> save_total_limit;  // unset = keep every checkpoint
  bool save_safetensors = true;         // kept; tune.cpp always writes safetensors
  bool save_only_model = false;         // checkpoints without optimizer and loop state (smaller; cannot be resumed)
  std::string logging_dir;              // kept, no effect yet
  bool plot_loss = false;
  std::vector<std::string> report_to = {"none"};  // HF 5 default (4.x: "all"); tune.cpp has no integrations
  // resume_from_checkpoint: false = start fresh; true = the newest checkpoint-* in output_dir; a string = that path.
  std::variant<bool, std::string> resume_from_checkpoint = false;

  // ---- train ----
  bool do_train = false;
  bool do_eval = false;  // forced true when eval_strategy is not "no" (HF TrainingArguments rule)
  bool do_predict = false;
  int per_device_train_batch_size = 8;
  int per_device_eval_batch_size = 8;
  int gradient_accumulation_steps = 1;
  double learning_rate = 5e-5;
  double num_train_epochs = 3.0;
  int max_steps = -1;                        // -1 = run num_train_epochs
  std::string lr_scheduler_type = "linear";  // linear|cosine|constant|constant_with_warmup
  double warmup_ratio = 0.0;
  int warmup_steps = 0;  // wins over warmup_ratio when > 0
  double weight_decay = 0.0;
  std::string optim = "adamw_torch";  // adamw_torch|adamw_torch_fused|adamw_hf: the same AdamW update here
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_epsilon = 1e-8;
  double max_grad_norm = 1.0;  // 0 = no clipping
  bool fp16 = false;
  bool bf16 = false;
  int64_t seed = 42;
  int logging_steps = 500;  // HF 4.x default
  int ddp_timeout = 1800;   // seconds a data-parallel collective may wait before the job is ended
  int dataloader_num_workers = 0;  // kept, no effect (batches are built in the training thread)

  // ---- eval ----
  std::string eval_strategy = "no";  // no|steps|epoch; the old key name evaluation_strategy is accepted too
  std::optional<int> eval_steps;     // resolved to logging_steps when eval_strategy is steps and it is unset
  bool compute_accuracy = false;     // SFT token accuracy (RM always reports pair accuracy)
  bool predict_with_generate = false;  // sft do_predict generates answers (LF requires it for sft predictions)

  // ---- generation (LF GeneratingArguments: tune chat, tune serve, sft do_predict) ----
  bool do_sample = true;             // false = greedy
  double temperature = 0.95;
  double top_p = 0.7;
  int top_k = 50;                    // 0 = no top-k filter
  int num_beams = 1;                 // only 1 (no beam search)
  int max_new_tokens = 1024;
  double repetition_penalty = 1.0;   // HF's: logits of seen tokens / p if > 0 else * p
  std::string default_system;        // empty = the template's own default system prompt
  bool skip_special_tokens = true;   // when decoding generated text
  std::string infer_backend = "huggingface";  // huggingface|vllm|sglang accepted; tune.cpp always runs its own engine

  // ---- export (tune export) ----
  std::string export_dir;              // required by tune export unless export_lora_gguf is set
  int export_size = 5;                 // GB per safetensors shard (HEAD default; v0.5.2: 1)
  bool export_legacy_format = false;   // true (.bin files) is rejected: tune.cpp writes safetensors only
  std::string export_device = "cpu";   // cpu|auto; kept, merging always runs on the CPU
  std::optional<int> export_quantization_bit;  // any value is rejected (no GPTQ); always unset in a valid plan
  std::string export_lora_gguf;        // tune.cpp's: write the adapter as a llama.cpp LoRA GGUF to this file
  std::string export_lora_gguf_type = "f32";  // tune.cpp's: f32|f16 tensors in that file

  // ---- tune.cpp's own keys (LLaMA-Factory has none) ----
  std::string rm_loss = "per_token";  // per_token (seed-era trlx loss) | last_token (LF >= 0.8.3)
  double value_head_dropout = 0.1;    // TRL ValueHead's dropout while training (0 for deterministic comparisons)
  std::string device = "auto";        // cpu|cuda|auto
  bool exact_gelu = false;            // erf GELU (what HF 4.38 ran) instead of the tanh approximation
  int threads = 0;                    // 0 = all cores
  bool infer_merge_adapters = true;   // chat/score/serve: merge every adapter into the base (LF); false keeps the last
                                      // one as a separate LoRA branch
  std::string gguf_weights;           // keep (GGUF default: projections stay GGML blocks) | dequantize (fp32);
                                      // resolved from model_name_or_path when unset; keep needs a .gguf model

  bool operator==(const Plan&) const = default;
};

enum class ConfigFormat { Yaml, Json };

// .yaml/.yml -> Yaml, .json -> Json; anything else -> tune::Error naming the file.
ConfigFormat config_format_of(const std::filesystem::path& file);

// Parses a config text (source names it in messages), applies `key=value` overrides in order (later ones win;
// a value is read as a YAML scalar, list keys also take comma lists), fills the derived defaults and checks every key
// and the cross-key rules. Any problem -> tune::Error naming the source, key and value.
// Warnings (a LLaMA-Factory key tune.cpp does not implement, given the value that leaves it off; report_to naming an
// integration) go to *warnings, or to stderr as `warning: ...` lines when warnings is null.
Plan parse_plan(std::string_view text, ConfigFormat format, const std::string& source,
                const std::vector<std::string>& overrides = {}, std::vector<std::string>* warnings = nullptr);

// Reads file (format from its extension) and calls parse_plan with the file's path as the source.
Plan load_plan(const std::filesystem::path& file, const std::vector<std::string>& overrides = {},
               std::vector<std::string>* warnings = nullptr);

// Every key with its resolved value as YAML, grouped (model, method, dataset, output, train, eval, tune.cpp) under a
// comment header, in a stable order. parse_plan of the result gives back an equal Plan.
std::string plan_to_yaml(const Plan& plan);

// lora_target with "all" expanded to the seven Gemma projection names, in model order.
std::vector<std::string> lora_target_modules(const Plan& plan);

}  // namespace tune
