// The LLaMA-Factory keys tune.cpp knows but does not implement, from LF's hparams (ModelArguments, DataArguments,
// FinetuningArguments, GeneratingArguments) and HF TrainingArguments; off values are their defaults there.
#include "config/lf_unsupported_keys.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace tune {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool as_number(const std::string& s, double* out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

std::vector<UnsupportedLfKey> make_keys() {
  const std::vector<std::string> no = {"false"}, none = {"null"};
  std::vector<UnsupportedLfKey> k = {
      // model (LF ModelArguments, QuantizationArguments)
      {"adapter_folder", none, "loads adapters from a folder"},
      {"add_special_tokens", none, "adds special tokens to the tokenizer"},
      {"add_tokens", none, "adds tokens to the tokenizer"},
      {"cache_dir", none, "caches Hub downloads"},
      {"double_quantization", {"true", "false"}, "configures bitsandbytes 4-bit quantization"},
      {"enable_liger_kernel", no, "patches the model with Liger kernels"},
      {"hf_hub_token", none, "logs in to the Hugging Face Hub"},
      {"low_cpu_mem_usage", {"true", "false"}, "loads weights lazily in transformers"},
      {"mixture_of_depths", none, "converts the model to mixture-of-depths"},
      {"model_revision", {"main"}, "picks a Hub revision of the model"},
      {"moe_aux_loss_coef", none, "weights the mixture-of-experts router loss"},
      {"ms_hub_token", none, "logs in to the ModelScope Hub"},
      {"offload_folder", {"offload"}, "offloads weights to disk"},
      {"print_param_status", no, "prints every parameter's trainable status"},
      {"quantization_device_map", none, "places a quantized model on devices"},
      {"quantization_method", {"bnb", "bitsandbytes"}, "quantizes the model on the fly (QLoRA)"},
      {"quantization_type", {"nf4"}, "picks the bitsandbytes 4-bit data type"},
      {"resize_vocab", no, "resizes the embeddings to the tokenizer"},
      {"rope_scaling", none, "scales RoPE for longer contexts"},
      {"shift_attn", no, "enables LongLoRA's shift short attention"},
      {"split_special_tokens", no, "splits special tokens while tokenizing"},
      {"train_from_scratch", no, "initializes the model randomly"},
      {"upcast_layernorm", no, "upcasts layer norms to fp32 (tune.cpp computes them in fp32 anyway)"},
      {"upcast_lmhead_output", no, "upcasts the LM head output to fp32 (tune.cpp computes it in fp32 anyway)"},
      {"use_reentrant_gc", {"true", "false"}, "picks the gradient checkpointing variant"},
      {"use_unsloth", no, "trains with Unsloth's kernels"},
      {"use_unsloth_gc", no, "uses Unsloth's gradient checkpointing"},
      // dataset (LF DataArguments, seed-era names included)
      {"buffer_size", {"16384"}, "sizes the shuffle buffer of streamed datasets"},
      {"eval_num_beams", none, "runs beam search in evaluation"},
      {"eval_on_each_dataset", no, "evaluates each dataset separately"},
      {"ignore_pad_token_for_loss", {"true"}, "keeps pad tokens out of the loss (tune.cpp always does)"},
      {"interleave_probs", none, "samples datasets with given probabilities"},
      {"mask_history", no, "trains on the last turn only"},
      {"media_dir", none, "holds images, videos and audio of multimodal datasets"},
      {"mix_strategy", {"concat"}, "interleaves several datasets (tune.cpp concatenates them)"},
      {"neat_packing", no, "packs sequences without cross-attention"},
      {"packing", {"null", "false"}, "packs several examples into one sequence"},
      {"preprocessing_batch_size", {"1000"}, "sizes the preprocessing batches of datasets.map"},
      {"sft_packing", no, "packs several examples into one sequence (seed-era name of packing)"},
      {"streaming", no, "streams the dataset instead of loading it"},
      {"tokenized_path", none, "saves or loads the tokenized dataset"},
      {"tool_format", none, "formats function-calling examples"},
      // method (LF FinetuningArguments)
      {"additional_target", none, "trains and saves extra modules (PEFT modules_to_save)"},
      {"create_new_adapter", no, "adds a fresh adapter on top of adapter_name_or_path"},
      {"disable_shuffling", no, "trains in dataset order"},
      {"early_stopping_steps", none, "stops when the eval metric stops improving"},
      {"include_effective_tokens_per_second", no, "reports effective tokens per second"},
      {"loraplus_lr_embedding", {"1e-6"}, "sets LoRA+'s embedding learning rate"},
      {"loraplus_lr_ratio", none, "trains LoRA B with a larger learning rate (LoRA+)"},
      {"lora_bf16_mode", no, "keeps LoRA weights in bf16 (seed-era name of pure_bf16)"},
      {"pissa_convert", no, "converts a PiSSA adapter to LoRA"},
      {"pissa_init", no, "initializes LoRA with PiSSA"},
      {"pissa_iter", {"16"}, "sets PiSSA's FSVD iterations"},
      {"ppo_buffer_size", {"1"}, "configures PPO"},
      {"ppo_epochs", {"4"}, "configures PPO"},
      {"ppo_score_norm", no, "configures PPO"},
      {"ppo_target", {"6"}, "configures PPO"},
      {"ppo_whiten_rewards", no, "configures PPO"},
      {"pure_bf16", no, "trains purely in bf16 without AMP"},
      {"reward_model", none, "names PPO's reward model"},
      {"reward_model_adapters", none, "names PPO's reward model adapters"},
      {"reward_model_quantization_bit", none, "quantizes PPO's reward model"},
      {"reward_model_type", {"lora"}, "picks PPO's reward model type"},
      {"use_adam_mini", no, "trains with the Adam-mini optimizer"},
      {"use_apollo", no, "trains with the APOLLO optimizer"},
      {"use_badam", no, "trains with the BAdam optimizer"},
      {"use_dft_loss", no, "trains with the DFT loss"},
      {"use_dora", no, "trains DoRA (weight-decomposed LoRA)"},
      {"use_galore", no, "trains with GaLore gradient projection"},
      {"galore_layerwise", no, "configures GaLore"},
      {"galore_proj_type", {"std"}, "configures GaLore"},
      {"galore_rank", {"16"}, "configures GaLore"},
      {"galore_scale", {"2", "0.25"}, "configures GaLore"},
      {"galore_target", {"all"}, "configures GaLore"},
      {"galore_update_interval", {"200"}, "configures GaLore"},
      {"use_llama_pro", no, "trains LLaMA Pro expanded blocks"},
      {"use_muon", no, "trains with the Muon optimizer"},
      {"use_swanlab", no, "reports to SwanLab"},
      // generation (LF GeneratingArguments)
      {"length_penalty", {"1"}, "weights beam search by length"},
      {"max_length", {"1024"}, "caps prompt + generated tokens (tune.cpp uses max_new_tokens)"},
      // train (HF TrainingArguments)
      {"auto_find_batch_size", no, "halves the batch size after out-of-memory errors"},
      {"bf16_full_eval", no, "evaluates in bf16"},
      {"deepspeed", none, "trains with DeepSpeed ZeRO"},
      {"eval_accumulation_steps", none, "moves eval predictions to the CPU in steps"},
      {"eval_delay", {"0"}, "delays the first evaluation"},
      {"fp16_full_eval", no, "evaluates in fp16"},
      {"fsdp", {"null", "", "false"}, "trains with PyTorch FSDP"},
      {"fsdp_config", none, "configures FSDP"},
      {"gradient_checkpointing", no, "recomputes activations in backward (LF sets it from "
                                     "disable_gradient_checkpointing)"},
      {"group_by_length", no, "batches examples of similar length"},
      {"hub_model_id", none, "names the Hub repository to push to"},
      {"label_smoothing_factor", {"0"}, "smooths the LM loss labels"},
      {"load_best_model_at_end", no, "reloads the best checkpoint at the end"},
      {"logging_first_step", no, "logs the first step"},
      {"lr_scheduler_kwargs", none, "passes arguments to the LR scheduler"},
      {"metric_for_best_model", none, "picks the best checkpoint"},
      {"neftune_noise_alpha", none, "adds NEFTune noise to embeddings"},
      {"optim_args", none, "passes arguments to the optimizer"},
      {"push_to_hub", no, "uploads the model to the Hub"},
      {"run_name", none, "names the run for reporting integrations"},
      {"save_strategy", {"steps"}, "picks when checkpoints are saved (tune.cpp saves every save_steps)"},
      {"tf32", none, "enables TF32 matmuls on Ampere GPUs"},
      {"torch_compile", no, "compiles the model with torch.compile"},
  };
  std::sort(k.begin(), k.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return k;
}

}  // namespace

const std::vector<UnsupportedLfKey>& unsupported_lf_keys() {
  static const std::vector<UnsupportedLfKey> keys = make_keys();
  return keys;
}

const UnsupportedLfKey* find_unsupported_lf_key(const std::string& name) {
  const auto& keys = unsupported_lf_keys();
  const auto it = std::lower_bound(keys.begin(), keys.end(), name, [](const auto& k, const std::string& n) {
    return k.name < n;
  });
  return it != keys.end() && it->name == name ? &*it : nullptr;
}

bool leaves_feature_off(const UnsupportedLfKey& key, const ConfigValue& v) {
  for (const std::string& off : key.off) {
    if (off == "null") {
      if (v.is_null) return true;
      continue;
    }
    if (v.is_null || v.is_list || v.items.size() != 1) continue;
    const std::string& text = v.items[0];
    const int want = parse_bool_word(off);
    if (want >= 0) {
      if (!v.quoted && parse_bool_word(text) == want) return true;
      continue;
    }
    double a = 0, b = 0;
    if (as_number(off, &a)) {
      if (as_number(text, &b) && a == b) return true;
      continue;
    }
    if (lower(text) == lower(off)) return true;
  }
  return false;
}

bool is_bool_lf_key(const UnsupportedLfKey& key) {
  return std::any_of(key.off.begin(), key.off.end(), [](const std::string& s) { return parse_bool_word(s) >= 0; });
}

}  // namespace tune
