// Loading LLaMA-Factory configs into a Plan: defaults, the seed config, overrides, aliases, JSON, derived values.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/plan.h"
#include "config/plan_data.h"
#include "core/error.h"

namespace tune {
namespace {

const std::string kDir = std::string(TUNE_TEST_DATA) + "/config/";

Plan yaml(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return parse_plan(text, ConfigFormat::Yaml, "config.yaml", overrides);
}

TEST(ConfigPlan, MinimalConfigGetsEveryDefault) {
  const Plan p = yaml("model_name_or_path: models/gemma-2b\ntemplate: gemma\n");
  Plan expected;
  expected.model_name_or_path = "models/gemma-2b";
  expected.template_ = "gemma";
  expected.gguf_weights = "dequantize";  // resolved: the model is not a .gguf file
  EXPECT_EQ(p, expected);
  // The defaults the brief pins down, spelled out.
  EXPECT_EQ(p.stage, "sft");
  EXPECT_EQ(p.finetuning_type, "lora");
  EXPECT_EQ(p.lora_target, std::vector<std::string>{"all"});
  EXPECT_EQ(p.lora_rank, 8);
  EXPECT_EQ(p.lora_alpha, 16);
  EXPECT_EQ(p.lora_dropout, 0.0);
  EXPECT_EQ(p.cutoff_len, 2048);
  EXPECT_EQ(p.dataset_dir, "data");
  EXPECT_EQ(p.per_device_train_batch_size, 8);
  EXPECT_EQ(p.per_device_eval_batch_size, 8);
  EXPECT_EQ(p.gradient_accumulation_steps, 1);
  EXPECT_EQ(p.learning_rate, 5e-5);
  EXPECT_EQ(p.num_train_epochs, 3.0);
  EXPECT_EQ(p.max_steps, -1);
  EXPECT_EQ(p.lr_scheduler_type, "linear");
  EXPECT_EQ(p.adam_beta1, 0.9);
  EXPECT_EQ(p.adam_beta2, 0.999);
  EXPECT_EQ(p.adam_epsilon, 1e-8);
  EXPECT_EQ(p.max_grad_norm, 1.0);
  EXPECT_EQ(p.seed, 42);
  EXPECT_EQ(p.logging_steps, 500);
  EXPECT_EQ(p.save_steps, 500);
  EXPECT_EQ(p.eval_strategy, "no");
  EXPECT_FALSE(p.eval_steps.has_value());
  EXPECT_FALSE(p.do_eval);
  EXPECT_EQ(p.rm_loss, "per_token");
  EXPECT_EQ(p.device, "auto");
  EXPECT_FALSE(p.exact_gelu);
  EXPECT_EQ(p.threads, 0);
  EXPECT_EQ(std::get<bool>(p.resume_from_checkpoint), false);
}

TEST(ConfigPlan, SeedConfigLoadsWithItsSettings) {
  const Plan p = load_plan(kDir + "gemma2b_rm_lora.yaml");
  EXPECT_EQ(p.model_name_or_path, "models/gemma-2b");
  EXPECT_EQ(p.stage, "rm");
  EXPECT_TRUE(p.do_train);
  EXPECT_EQ(p.lora_target, (std::vector<std::string>{"q_proj", "v_proj"}));
  EXPECT_EQ(lora_target_modules(p), (std::vector<std::string>{"q_proj", "v_proj"}));
  EXPECT_EQ(p.lora_rank, 8);
  EXPECT_EQ(p.lora_alpha, 16);
  EXPECT_EQ(p.dataset, std::vector<std::string>{"age_bias"});
  EXPECT_EQ(p.template_, "gemma");
  EXPECT_EQ(p.cutoff_len, 1024);
  EXPECT_DOUBLE_EQ(p.val_size, 0.05);
  EXPECT_EQ(p.per_device_train_batch_size, 1);
  EXPECT_EQ(p.per_device_eval_batch_size, 1);
  EXPECT_EQ(p.gradient_accumulation_steps, 8);
  EXPECT_EQ(p.learning_rate, 1e-6);
  EXPECT_EQ(p.lr_scheduler_type, "cosine");
  EXPECT_EQ(p.num_train_epochs, 1.0);
  EXPECT_TRUE(p.fp16);
  EXPECT_FALSE(p.bf16);
  EXPECT_EQ(p.logging_steps, 10);
  EXPECT_EQ(p.eval_strategy, "steps");
  EXPECT_EQ(p.eval_steps, 10);
  EXPECT_TRUE(p.do_eval);  // HF turns do_eval on when eval_strategy is not "no"
  EXPECT_TRUE(p.plot_loss);
  EXPECT_EQ(p.seed, 42);
  EXPECT_EQ(p.output_dir, "saves/gemma-2b/lora/rm");
  EXPECT_TRUE(p.overwrite_output_dir);
  EXPECT_EQ(p.warmup_steps, 0);
  EXPECT_EQ(p.warmup_ratio, 0.0);
}

TEST(ConfigPlan, JsonConfigEqualsTheYamlOne) {
  const Plan from_json = load_plan(kDir + "gemma2b_rm_lora.json");
  EXPECT_EQ(from_json, load_plan(kDir + "gemma2b_rm_lora.yaml"));
  EXPECT_EQ(from_json.learning_rate, 1e-6);
}

TEST(ConfigPlan, OverridesWinOverTheFile) {
  const Plan p = load_plan(kDir + "gemma2b_rm_lora.yaml",
                           {"learning_rate=2e-5", "lora_target=q_proj, k_proj,v_proj", "fp16=false", "bf16=true",
                            "lora_rank=16", "output_dir=saves/other", "seed=1", "seed=7", "dataset=[a, b]",
                            "max_samples=100", "rm_loss=last_token", "device=cpu", "threads=4", "exact_gelu=true"});
  EXPECT_EQ(p.learning_rate, 2e-5);
  EXPECT_EQ(p.lora_target, (std::vector<std::string>{"q_proj", "k_proj", "v_proj"}));
  EXPECT_FALSE(p.fp16);
  EXPECT_TRUE(p.bf16);
  EXPECT_EQ(p.lora_rank, 16);
  EXPECT_EQ(p.lora_alpha, 32);  // unset in the file -> 2 * the overridden rank
  EXPECT_EQ(p.output_dir, "saves/other");
  EXPECT_EQ(p.seed, 7);  // the later override wins
  EXPECT_EQ(p.dataset, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(p.max_samples, 100);
  EXPECT_EQ(p.rm_loss, "last_token");
  EXPECT_EQ(p.device, "cpu");
  EXPECT_EQ(p.threads, 4);
  EXPECT_TRUE(p.exact_gelu);
  EXPECT_EQ(p.cutoff_len, 1024);  // untouched keys keep the file's values
}

TEST(ConfigPlan, OverrideCanUnsetWithNull) {
  const Plan p = yaml("model_name_or_path: m\ntemplate: gemma\nmax_samples: 50\nlora_alpha: 4\n",
                      {"max_samples=null", "lora_alpha="});
  EXPECT_FALSE(p.max_samples.has_value());
  EXPECT_EQ(p.lora_alpha, 16);
}

TEST(ConfigPlan, EvaluationStrategyIsAnAliasOfEvalStrategy) {
  const std::string base = "model_name_or_path: m\ntemplate: gemma\ndataset: d\nval_size: 0.1\nlogging_steps: 25\n";
  const Plan old_name = yaml(base + "evaluation_strategy: steps\n");
  const Plan new_name = yaml(base + "eval_strategy: steps\n");
  EXPECT_EQ(old_name, new_name);
  EXPECT_EQ(new_name.eval_strategy, "steps");
  EXPECT_EQ(new_name.eval_steps, 25);  // defaults to logging_steps
  EXPECT_TRUE(new_name.do_eval);
  // The new name on the command line replaces the old name from the file.
  const Plan off = yaml(base + "evaluation_strategy: steps\n", {"eval_strategy=no"});
  EXPECT_EQ(off.eval_strategy, "no");
  EXPECT_FALSE(off.do_eval);
  EXPECT_FALSE(off.eval_steps.has_value());
  EXPECT_EQ(yaml(base + "eval_strategy: epoch\n").eval_strategy, "epoch");
}

TEST(ConfigPlan, LoraAlphaRankAndRslora) {
  const std::string base = "model_name_or_path: m\ntemplate: gemma\n";
  EXPECT_EQ(yaml(base + "lora_rank: 4\n").lora_alpha, 8);
  EXPECT_EQ(yaml(base + "lora_rank: 4\nlora_alpha: 32\n").lora_alpha, 32);
  EXPECT_EQ(yaml(base + "lora_rank: 4\nlora_alpha: null\n").lora_alpha, 8);
  const Plan p = yaml(base + "use_rslora: true\nlora_dropout: 0.05\nlora_target: all\n");
  EXPECT_TRUE(p.use_rslora);
  EXPECT_EQ(p.lora_dropout, 0.05);
  EXPECT_EQ(lora_target_modules(p), (std::vector<std::string>{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                              "up_proj", "down_proj"}));
}

TEST(ConfigPlan, ResumeFromCheckpointTakesBoolOrPath) {
  const std::string base = "model_name_or_path: m\ntemplate: gemma\noutput_dir: out\n";
  EXPECT_EQ(std::get<bool>(yaml(base + "resume_from_checkpoint: true\n").resume_from_checkpoint), true);
  EXPECT_EQ(std::get<bool>(yaml(base + "resume_from_checkpoint: false\n").resume_from_checkpoint), false);
  EXPECT_EQ(std::get<bool>(yaml(base + "resume_from_checkpoint: null\n").resume_from_checkpoint), false);
  EXPECT_EQ(std::get<std::string>(yaml(base + "resume_from_checkpoint: out/checkpoint-20\n").resume_from_checkpoint),
            "out/checkpoint-20");
  // A quoted word is a path, not a bool.
  EXPECT_EQ(std::get<std::string>(yaml(base + "resume_from_checkpoint: \"true\"\n").resume_from_checkpoint), "true");
}

TEST(ConfigPlan, FlashAttnAcceptsOldBoolsAndNewWords) {
  const std::string base = "model_name_or_path: m\ntemplate: gemma\n";
  EXPECT_EQ(yaml(base + "flash_attn: true\n").flash_attn, "fa2");
  EXPECT_EQ(yaml(base + "flash_attn: false\n").flash_attn, "disabled");
  EXPECT_EQ(yaml(base + "flash_attn: sdpa\n").flash_attn, "sdpa");
}

TEST(ConfigPlan, KeepsLlamaFactoryKeysWithoutEffect) {
  const Plan p = load_plan(kDir + "lf_head_reward.yaml");
  EXPECT_TRUE(p.trust_remote_code);
  EXPECT_EQ(p.flash_attn, "sdpa");
  EXPECT_FALSE(p.use_fast_tokenizer);
  EXPECT_FALSE(p.quantization_bit.has_value());
  EXPECT_EQ(p.lora_target, std::vector<std::string>{"all"});
  EXPECT_EQ(p.dataset, (std::vector<std::string>{"dpo_en_demo", "age_bias"}));
  EXPECT_EQ(p.max_samples, 1000);
  EXPECT_TRUE(p.overwrite_cache);
  EXPECT_EQ(p.preprocessing_num_workers, 16);
  EXPECT_EQ(p.save_total_limit, 2);
  EXPECT_EQ(p.logging_dir, "saves/gemma-2b/lora/reward/runs");
  EXPECT_EQ(p.report_to, std::vector<std::string>{"none"});
  EXPECT_EQ(p.learning_rate, 1e-4);
  EXPECT_EQ(p.warmup_ratio, 0.1);
  EXPECT_TRUE(p.bf16);
  EXPECT_EQ(p.ddp_timeout, 180000000);
  EXPECT_EQ(p.eval_steps, 500);
  EXPECT_EQ(p.dataloader_num_workers, 4);
  EXPECT_FALSE(p.save_only_model);
  EXPECT_EQ(p.optim, "adamw_torch_fused");
}

// LF's DPO example config loads with its preference keys and eval_dataset; the rest of the preference keys keep LF's
// defaults.
TEST(ConfigPlan, LlamaFactoryDpoExampleLoads) {
  const Plan p = load_plan(kDir + "lf_head_dpo.yaml");
  EXPECT_EQ(p.stage, "dpo");
  EXPECT_EQ(p.pref_beta, 0.1);
  EXPECT_EQ(p.pref_loss, "sigmoid");
  EXPECT_EQ(p.pref_ftx, 0.0);
  EXPECT_EQ(p.dpo_label_smoothing, 0.0);
  EXPECT_EQ(p.simpo_gamma, 0.5);
  EXPECT_TRUE(p.ref_model.empty());
  EXPECT_TRUE(p.ref_model_adapters.empty());
  EXPECT_EQ(p.eval_dataset, std::vector<std::string>{"dpo_en_demo"});
  EXPECT_EQ(p.val_size, 0.0);
  EXPECT_TRUE(p.do_eval);  // eval_strategy steps
  // the resolved plan prints and reloads equal
  EXPECT_EQ(parse_plan(plan_to_yaml(p), ConfigFormat::Yaml, "printed"), p);
}

TEST(ConfigPlan, ScalarsReadTheYamlWays) {
  const std::string base = "model_name_or_path: m\ntemplate: gemma\n";
  const Plan p = yaml(base + "fp16: True\nplot_loss: yes\nlearning_rate: 3.0e-4\nnum_train_epochs: 2\n"
                             "warmup_steps: +5\nval_size: 500\nadapter_name_or_path: [a1, a2]\nseed: 0\n");
  EXPECT_TRUE(p.fp16);
  EXPECT_TRUE(p.plot_loss);
  EXPECT_EQ(p.learning_rate, 3e-4);
  EXPECT_EQ(p.num_train_epochs, 2.0);
  EXPECT_EQ(p.warmup_steps, 5);
  EXPECT_EQ(p.val_size, 500.0);
  EXPECT_EQ(p.adapter_name_or_path, (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(p.seed, 0);
}

TEST(ConfigPlan, PretrainingNeedsNoTemplate) {
  const Plan p = yaml("model_name_or_path: m\nstage: pt\n");
  EXPECT_EQ(p.stage, "pt");
  EXPECT_TRUE(p.template_.empty());
}

TEST(ConfigPlan, DataOptionsCarryTheDataKeys) {
  const DataOptions d = data_options(load_plan(kDir + "gemma2b_rm_lora.yaml", {"max_samples=64", "train_on_prompt=true"}));
  EXPECT_EQ(d.stage, Stage::Rm);
  EXPECT_EQ(d.datasets, std::vector<std::string>{"age_bias"});
  EXPECT_EQ(d.dataset_dir, std::filesystem::path("data"));
  EXPECT_EQ(d.template_name, "gemma");
  EXPECT_EQ(d.cutoff_len, 1024);
  EXPECT_EQ(d.max_samples, 64);
  EXPECT_TRUE(d.train_on_prompt);
  EXPECT_EQ(data_options(yaml("model_name_or_path: m\nstage: pt\n")).stage, Stage::Pt);
  EXPECT_EQ(data_options(yaml("model_name_or_path: m\ntemplate: gemma\n")).stage, Stage::Sft);
}

// gguf_weights: unset resolves to keep for a .gguf model and dequantize otherwise; keep needs a .gguf; other words
// are refused.
TEST(ConfigPlan, GgufWeightsResolvesFromTheModelPath) {
  const std::filesystem::path gguf =
      std::filesystem::temp_directory_path() / ("tune_plan_" + std::to_string(getpid()) + ".gguf");
  std::ofstream(gguf) << "GGUF";  // the plan looks at the name and that it is a file; the loader reads it
  const std::string base = "model_name_or_path: " + gguf.string() + "\ntemplate: gemma\n";
  EXPECT_EQ(yaml(base).gguf_weights, "keep");
  EXPECT_EQ(yaml(base + "gguf_weights: dequantize\n").gguf_weights, "dequantize");
  std::filesystem::remove(gguf);
  EXPECT_EQ(yaml("model_name_or_path: m\ntemplate: gemma\n").gguf_weights, "dequantize");
  try {
    yaml("model_name_or_path: m\ntemplate: gemma\ngguf_weights: keep\n");
    ADD_FAILURE() << "keep on a folder was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is not a .gguf file"), std::string::npos) << e.what();
  }
  EXPECT_THROW(yaml("model_name_or_path: m\ntemplate: gemma\ngguf_weights: q4\n"), Error);
}

}  // namespace
}  // namespace tune
