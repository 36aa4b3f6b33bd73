// The bundled example configs (examples/age_bias/*.yaml) load with the config loader and hold the intended values.
#include <gtest/gtest.h>

#include <filesystem>

#include "config/plan.h"

namespace tune {
namespace {

const std::filesystem::path kExample = std::filesystem::path(TUNE_TEST_DATA) / ".." / ".." / "examples" / "age_bias";

// The seed run's settings both configs share.
void expect_seed_recipe(const Plan& p) {
  EXPECT_EQ(p.stage, "rm");
  EXPECT_TRUE(p.do_train);
  EXPECT_TRUE(p.do_eval);
  EXPECT_EQ(p.finetuning_type, "lora");
  EXPECT_EQ(p.lora_target, (std::vector<std::string>{"q_proj", "v_proj"}));
  EXPECT_EQ(p.lora_rank, 8);
  EXPECT_EQ(p.lora_alpha, 16);
  EXPECT_EQ(p.template_, "gemma");
  EXPECT_EQ(p.dataset, std::vector<std::string>{"age_bias"});
  EXPECT_EQ(p.dataset_dir, "examples/age_bias/data");
  EXPECT_EQ(p.val_size, 0.05);
  EXPECT_TRUE(p.overwrite_output_dir);
  EXPECT_TRUE(p.plot_loss);
  EXPECT_EQ(p.logging_steps, 10);
  EXPECT_EQ(p.per_device_eval_batch_size, 1);
  EXPECT_EQ(p.lr_scheduler_type, "cosine");
  EXPECT_EQ(p.num_train_epochs, 1.0);
  EXPECT_EQ(p.warmup_steps, 0);
  EXPECT_EQ(p.warmup_ratio, 0.0);
  EXPECT_EQ(p.eval_strategy, "steps");
  EXPECT_EQ(p.eval_steps, 10);
  EXPECT_EQ(p.seed, 42);
  EXPECT_EQ(p.rm_loss, "per_token");
}

TEST(ExampleConfigs, TinyAgeBiasRunKeepsTheSeedRecipeWithCpuChanges) {
  const Plan p = load_plan(kExample / "rm_lora.yaml");
  expect_seed_recipe(p);
  EXPECT_EQ(p.model_name_or_path, "examples/age_bias/model");
  EXPECT_EQ(p.output_dir, "saves/age_bias/rm_lora");
  EXPECT_EQ(p.cutoff_len, 256);
  EXPECT_EQ(p.per_device_train_batch_size, 4);
  EXPECT_EQ(p.gradient_accumulation_steps, 2);
  EXPECT_EQ(p.per_device_train_batch_size * p.gradient_accumulation_steps, 8);  // the seed's 1 x 8 per device
  EXPECT_DOUBLE_EQ(p.learning_rate, 5e-3);
  EXPECT_FALSE(p.fp16);
  EXPECT_FALSE(p.bf16);
}

TEST(ExampleConfigs, Gemma2bConfigIsTheSeedRun) {
  const Plan p = load_plan(kExample / "gemma2b_rm_lora.yaml");
  expect_seed_recipe(p);
  EXPECT_EQ(p.model_name_or_path, "path/to/gemma-2b");
  EXPECT_EQ(p.output_dir, "saves/age_bias/gemma2b_rm_lora");
  EXPECT_EQ(p.cutoff_len, 1024);
  EXPECT_EQ(p.per_device_train_batch_size, 1);
  EXPECT_EQ(p.gradient_accumulation_steps, 8);
  EXPECT_DOUBLE_EQ(p.learning_rate, 1e-6);
  EXPECT_TRUE(p.fp16);
  EXPECT_FALSE(p.bf16);
}

TEST(ExampleConfigs, SmolLM2RunTrainsTheRewardModelOnTheRealGguf) {
  const Plan p = load_plan(kExample / "rm_smollm2.yaml");
  EXPECT_EQ(p.model_name_or_path, "models/gguf/SmolLM2-135M-Instruct.Q4_1.gguf");
  EXPECT_EQ(p.stage, "rm");
  EXPECT_TRUE(p.do_train);
  EXPECT_TRUE(p.do_eval);
  EXPECT_EQ(p.template_, "smollm2");
  EXPECT_EQ(p.dataset, std::vector<std::string>{"age_bias"});
  EXPECT_EQ(p.dataset_dir, "examples/age_bias/data");
  EXPECT_EQ(p.lora_target, std::vector<std::string>{"all"});
  EXPECT_EQ(p.max_samples, std::optional<int64_t>(300));
  EXPECT_EQ(p.val_size, 0.1);
  EXPECT_EQ(p.cutoff_len, 256);
  EXPECT_EQ(p.per_device_train_batch_size * p.gradient_accumulation_steps, 8);  // the seed's 8 pairs per step
  EXPECT_DOUBLE_EQ(p.learning_rate, 5e-4);
  EXPECT_EQ(p.output_dir, "saves/age_bias/rm_smollm2");
  EXPECT_FALSE(p.fp16);
}

}  // namespace
}  // namespace tune
